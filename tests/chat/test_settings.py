"""chat's settings: a mistyped model server address stops the start, not every answer."""

from __future__ import annotations

import pytest

from eco2 import config
from eco2.chat.settings import ChatSettings


@pytest.mark.parametrize("url", ["api.openai.com/v1", "ftp://models.example/v1", "http:///v1"])
def test_a_base_url_that_is_not_http_is_refused(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(config.ConfigError):
        config.load(ChatSettings, {"OPENAI_BASE_URL": url})
    assert "OPENAI_BASE_URL" in capsys.readouterr().err


def test_a_blank_base_url_is_openais() -> None:
    assert config.load(ChatSettings, {"OPENAI_BASE_URL": ""}).openai_base_url is None
    assert config.load(ChatSettings, {"OPENAI_BASE_URL": "http://127.0.0.1:8000/v1"}).openai_base_url
