"""The bucket's configuration, one place for image, scan and chat: defaults,
refusals, the public base URL and the allow-list derived from it."""

from __future__ import annotations

import pytest

from eco2 import config
from eco2.image.settings import ImageSettings, allowed_origins, is_upload_url, origin


def load(**env: str) -> ImageSettings:
    return config.load(ImageSettings, environ=env)


def test_nothing_configured_allows_nothing() -> None:
    settings = load()
    assert settings.bucket is None and settings.public_base_url is None
    assert allowed_origins(settings) == []
    assert not is_upload_url(settings, "https://images.example.com/scan/a.jpg")
    assert settings.url_ttl_seconds == 300 and settings.max_bytes == 10 << 20
    assert settings.region == "ap-northeast-2"


def test_production_is_the_cdn_base_url() -> None:
    settings = load(ECO2_IMAGE_BUCKET="eco2-prod-uploads-1", ECO2_IMAGE_CDN_BASE_URL="https://images.eco2.example.com/")
    assert settings.public_base_url == "https://images.eco2.example.com"
    assert allowed_origins(settings) == ["https://images.eco2.example.com"]
    key = "scan/8d3c0f7e-1f8a-4c8e-9b1a-2f6f5d0c1a2b/0123456789abcdef0123456789abcdef.jpg"
    assert is_upload_url(settings, f"https://images.eco2.example.com/{key}")
    assert is_upload_url(settings, f"https://IMAGES.eco2.example.com:443/{key}")
    for url in (f"http://images.eco2.example.com/{key}", f"https://images.eco2.example.com.evil.io/{key}",
                f"https://evil.io/{key}", f"https://images.eco2.example.com:8443/{key}",
                f"https://images.eco2.example.com/{key}?X-Amz-Signature=1", "https://images.eco2.example.com/",
                "https://images.eco2.example.com/scan/%2e%2e/x.jpg", "https://user@images.eco2.example.com:x/",
                "file:///etc/passwd", "not a url"):
        assert not is_upload_url(settings, url), url
    # Credentials in the URL: never an upload's URL (the origin alone would pass).
    for userinfo in ("user:pass@", "user@", ":pass@", "@"):
        assert not is_upload_url(settings, f"https://{userinfo}images.eco2.example.com/{key}"), userinfo


def test_without_a_cdn_the_bucket_url_and_on_an_endpoint_path_style() -> None:
    aws = load(ECO2_IMAGE_BUCKET="eco2-uploads", AWS_REGION="us-west-2")
    assert aws.public_base_url == "https://eco2-uploads.s3.us-west-2.amazonaws.com"
    dev = load(ECO2_IMAGE_BUCKET="eco2-uploads", ECO2_IMAGE_ENDPOINT_URL="http://127.0.0.1:9000/")
    assert dev.public_base_url == "http://127.0.0.1:9000/eco2-uploads"
    assert allowed_origins(dev) == ["http://127.0.0.1:9000"]
    assert is_upload_url(dev, "http://127.0.0.1:9000/eco2-uploads/scan/u/a.jpg")
    # The same origin, another bucket, or a way out of this one: not ours.
    assert not is_upload_url(dev, "http://127.0.0.1:9000/other-bucket/scan/u/a.jpg")
    assert not is_upload_url(dev, "http://127.0.0.1:9000/eco2-uploads/../other/a.jpg")
    assert not is_upload_url(dev, "http://127.0.0.1:9001/eco2-uploads/scan/u/a.jpg")


def test_origins_are_normalized() -> None:
    assert origin("HTTPS://Images.Example.com:443/x") == "https://images.example.com"
    assert origin("http://127.0.0.1:80/x") == "http://127.0.0.1"
    assert origin("http://[::1]:9000/x") == "http://[::1]:9000"
    assert origin("ftp://x/y") is None and origin("http://x:99999/") is None


@pytest.mark.parametrize("variable, value", [
    ("ECO2_IMAGE_BUCKET", "Has_Capitals"), ("ECO2_IMAGE_BUCKET", "a.b.c"), ("ECO2_IMAGE_BUCKET", "ab"),
    ("AWS_REGION", "seoul"), ("ECO2_IMAGE_ENDPOINT_URL", "http://127.0.0.1:9000/bucket"),
    ("ECO2_IMAGE_ENDPOINT_URL", "s3.example.com"), ("ECO2_IMAGE_CDN_BASE_URL", "https://cdn.example.com/?a=1"),
    ("ECO2_IMAGE_URL_TTL_SECONDS", "0"), ("ECO2_IMAGE_URL_TTL_SECONDS", "604801"), ("ECO2_IMAGE_MAX_BYTES", "10"),
])
def test_a_bad_value_stops_the_start_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(config.ConfigError) as raised:
        load(**{variable: value})
    assert raised.value.code == 78
    assert variable in raised.value.message
    if len(value) > 4:  # the message never echoes a value (short ones could be in the limits it names)
        assert value not in raised.value.message.replace(variable, "")


def test_the_secret_is_never_shown() -> None:
    settings = load(AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY="s3cr3t-value")
    assert "s3cr3t-value" not in repr(settings) and "s3cr3t-value" not in str(settings.model_dump())
    assert settings.secret_access_key.get_secret_value() == "s3cr3t-value"


def test_scan_and_chat_can_include_it() -> None:
    """A function's settings subclass ImageSettings and get the allow-list from the same variables."""
    from pydantic import Field

    class Other(ImageSettings):
        extra: int = Field(1, alias="ECO2_OTHER")

    settings = config.load(Other, environ={"ECO2_IMAGE_CDN_BASE_URL": "https://images.example.com",
                                           "ECO2_OTHER": "2"})
    assert allowed_origins(settings) == ["https://images.example.com"] and settings.extra == 2
