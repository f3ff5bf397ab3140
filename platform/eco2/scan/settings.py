"""Settings of scan's classifier, beyond the runtime's and the upload bucket's
(``Function(..., settings=ScanSettings)``).

The model and the mapping are files named here, so a better model drops in by
configuration: an ONNX file with its model card beside it (``<name>.json``:
sha256, input shape, class-name file) and a mapping from its classes to the
knowledge base's categories.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from eco2.image.settings import ImageSettings

DATA = Path(str(resources.files("eco2").joinpath("data/scan")))


class ScanSettings(ImageSettings):
    """The image settings (ECO2_IMAGE_*: the upload bucket whose URLs scan
    fetches, and ECO2_IMAGE_MAX_BYTES, the largest photo) and the classifier's."""

    model_path: Path = Field(DATA / "efficientnet_lite0.onnx", alias="ECO2_SCAN_MODEL_PATH")
    mapping_path: Path = Field(DATA / "imagenet_mapping.json", alias="ECO2_SCAN_MAPPING_PATH")
    # Below this summed probability of the best category the answer is 미분류
    # with the candidates (docs/scan.md: how it was chosen).
    min_confidence: float = Field(0.4, gt=0, lt=1, alias="ECO2_SCAN_MIN_CONFIDENCE")
    # Below this, the image counts as unsure: an item named in user_input wins.
    steer_below: float = Field(0.85, gt=0, le=1, alias="ECO2_SCAN_STEER_BELOW")
    # onnxruntime's threads for one inference; a scan pod has one CPU.
    threads: int = Field(1, ge=1, le=16, alias="ECO2_SCAN_THREADS")
    max_pixels: int = Field(40_000_000, ge=1_000_000, le=100_000_000, alias="ECO2_SCAN_MAX_PIXELS")
    # PNG and WebP are decoded at full size (JPEG in draft mode): their own limit,
    # for memory (eco2.scan.decode).
    max_full_pixels: int = Field(16_000_000, ge=1_000_000, le=100_000_000,
                                 alias="ECO2_SCAN_MAX_FULL_DECODE_PIXELS")
    # Optional refinement by an OpenAI vision model when the local answer is unsure.
    vision_model: str | None = Field(None, alias="ECO2_SCAN_VISION_MODEL")
    vision_below: float = Field(0.6, gt=0, le=1, alias="ECO2_SCAN_VISION_BELOW")
    # The vision call's deadline, from connecting to the answer's last byte; no retries.
    vision_timeout_seconds: float = Field(8.0, gt=0, le=60, alias="ECO2_SCAN_VISION_TIMEOUT_SECONDS")
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")

    @field_validator("model_path", "mapping_path")
    @classmethod
    def _exists(cls, value: Path) -> Path:
        if not value.is_file():
            raise ValueError("no such file")
        return value

    @field_validator("vision_model", "openai_base_url")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None
