"""eco2's benchmarks (`make bench`) and load run (`make load`); see docs/bench.md.

- :mod:`bench.stats`: medians, percentiles, ratios, the log, the domain figures;
- :mod:`bench.machine`: the machine's description, pinning to CPUs;
- :mod:`bench.stack`: the embedded PostgreSQL and Redis of a run, the functions' environment;
- :mod:`bench.server`: a function's server process, requests to it, the measured routes;
- :mod:`bench.users`: bench users with history, and spare refresh tokens;
- :mod:`bench.instructions`: warm instructions per request under callgrind (not in `make bench`).
"""

import sys

from eco2_tools.functions import repo_root

ROOT = repo_root()
PLATFORM = ROOT / "platform"
PY = sys.executable
HELLO = ROOT / "bench" / "fixtures" / "hello" / "main.py"
# Two answers without eco2's request path (its docstring): the runtime's cost beside their routes'.
BARE = ROOT / "bench" / "fixtures" / "bare" / "main.py"
