"""The external checkers of the infra tier: where each binary comes from, and
running them side by side.

Most come from the project's `infra` dependency group (.venv/bin). checkov
cannot: it pins packages the project uses at other versions and ships a module
named like python-hcl2's. It has a virtualenv of its own, `.tools/checkov`,
which `make install` makes (tests.support.CHECKOV). terraform comes from the
PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent  # .venv/bin: ansible, ansible-lint, yamllint, actionlint


def venv_bin(name: str) -> Path:
    """A console script of the project's own virtualenv."""
    return BIN / name



def terraform() -> tuple[str | None, str]:
    """The terraform on the PATH for `fmt`, or why there is none.

    This machine's image carries one (/usr/local/bin, 1.11), and ci.yml installs
    one on GitHub. No wheel on PyPI carries a current terraform: the only one
    found is a third party's repackaging of 1.0.3, not worth trusting for a
    formatting check.
    """
    found = shutil.which("terraform")
    if found:
        return found, found
    return None, "terraform is not on the PATH (install it from HashiCorp's releases to run the fmt check)"


@dataclass
class Check:
    """One external command, started in the background and awaited by its test."""

    argv: list[str]
    cwd: Path = ROOT
    env: dict[str, str] = field(default_factory=dict)
    output_dir: Path | None = None  # where the command writes reports, when it does
    process: subprocess.Popen[str] | None = None
    output: str | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def result(self, timeout: float = 600) -> tuple[int, str]:
        """Exit code and combined output; starts the command if nobody did."""
        if self.process is None:
            self.start()
        assert self.process is not None
        if self.output is None:
            self.output, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, self.output
