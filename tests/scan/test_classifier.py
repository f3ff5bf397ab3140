"""classify(): real photos and drawn images through the real ONNX model."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from PIL import Image

from eco2.scan import classifier
from eco2.scan.decode import CorruptImage, TooManyPixels, UnsupportedImage
from eco2.scan.settings import ScanSettings

from .conftest import scan_settings
from .images import encode, noise, photo, quadrants, stored_with_orientation


def test_the_coffee_cup_is_a_ceramic_cup_not_a_glass_bottle(settings: ScanSettings) -> None:
    result = classifier.classify(photo("coffee.png"), settings=settings)
    assert result.category.name != "유리병"
    assert result.classification["middle_category"] != "유리병"
    assert (result.category.code, result.item.id) == ("non_combustible", "ceramics")
    assert result.source == "model" and result.confidence > 0.8
    assert result.classification == {
        "major_category": "불연성종량제폐기물", "middle_category": "불연성종량제폐기물", "minor_category": "도자기",
    }


def test_a_cat_is_unclassified_with_its_top_candidates(settings: ScanSettings) -> None:
    result = classifier.classify(photo("chelsea.png"), settings=settings)
    assert result.category.code == "unclassified"
    assert result.classification["major_category"] == "미분류"
    assert result.confidence < settings.min_confidence
    assert len(result.candidates) == 3
    probs = [c.probability for c in result.candidates]
    assert probs == sorted(probs, reverse=True)
    assert result.situation_tags == ("미분류_전체",)
    assert result.missing_steps == ("checked",) and not result.correct
    assert "확실하지 않아요" in result.user_answer
    assert result.candidates[0].category.name in result.user_answer


def test_a_drawn_picture_is_unclassified(settings: ScanSettings) -> None:
    result = classifier.classify(encode(quadrants(), "PNG"), settings=settings)
    assert result.category.code == "unclassified"


def test_user_input_steers_an_unsure_image(settings: ScanSettings) -> None:
    result = classifier.classify(encode(quadrants(), "PNG"), user_input="우유팩이에요", settings=settings)
    assert result.source == "user_input"
    assert result.category.name == "종이팩" and result.item.id == "milk-carton"
    assert result.classification == {"major_category": "재활용폐기물", "middle_category": "종이팩",
                                      "minor_category": "우유팩"}
    assert result.situation_tags == () and result.missing_steps == () and result.correct
    # The model's own view is still reported.
    assert len(result.candidates) == 3


def test_user_input_naming_a_category_steers_to_it(settings: ScanSettings) -> None:
    result = classifier.classify(encode(quadrants(), "PNG"), user_input="유리병", settings=settings)
    assert (result.source, result.category.code, result.item) == ("user_input", "glass", None)


def test_user_input_does_not_override_a_confident_image(settings: ScanSettings) -> None:
    result = classifier.classify(photo("coffee.png"), user_input="우유팩이에요", settings=settings)
    assert result.source == "model" and result.category.code == "non_combustible"


@pytest.mark.parametrize("text", ["이 폐기물을 어떻게 분리배출해야 하나요?", "몰라요", "   "])
def test_user_input_that_names_nothing_changes_nothing(settings: ScanSettings, text: str) -> None:
    result = classifier.classify(photo("chelsea.png"), user_input=text, settings=settings)
    assert result.source == "model" and result.category.code == "unclassified"


def test_prepared_steps_make_the_check_strict(settings: ScanSettings) -> None:
    image = encode(quadrants(), "PNG")
    partly = classifier.classify(image, user_input="페트병", prepared=["emptied", "label_removed"],
                                 settings=settings)
    assert partly.category.code == "clear_pet"
    assert partly.missing_steps == ("rinsed", "crushed", "cap_closed") and not partly.correct
    assert len(partly.insufficiencies) == 3 and "물로 헹구기" in partly.insufficiencies[0]
    done = classifier.classify(image, user_input="페트병", settings=settings,
                               prepared=["emptied", "rinsed", "label_removed", "crushed", "cap_closed"])
    assert done.missing_steps == () and done.correct and done.insufficiencies == ()


def test_unknown_prepared_step_is_refused(settings: ScanSettings) -> None:
    with pytest.raises(classifier.UnknownStep) as info:
        classifier.classify(photo("coffee.png"), prepared=["rinsed", "polished"], settings=settings)
    assert info.value.status == 422 and "polished" in str(info.value)


def test_disposal_steps_are_the_guide_in_order(settings: ScanSettings) -> None:
    result = classifier.classify(encode(quadrants(), "PNG"), user_input="유리병", settings=settings)
    guide = result.category.guide
    expected = [s.text for s in guide.steps] + list(guide.put_out)
    assert list(result.disposal_steps) == [f"단계{n}" for n in range(1, len(expected) + 1)]
    assert list(result.disposal_steps.values()) == expected


def test_a_photo_turned_by_exif_classifies_like_the_upright_one(settings: ScanSettings) -> None:
    upright = Image.open(__import__("io").BytesIO(photo("coffee.png"))).convert("RGB")
    a = classifier.classify(encode(upright, "JPEG", quality=95), settings=settings)
    b = classifier.classify(stored_with_orientation(upright, 8), settings=settings)
    assert a.category == b.category and a.item == b.item
    assert abs(a.confidence - b.confidence) < 0.05
    # Stored sideways *without* the tag, the model sees a different picture.
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    c = classifier.classify(encode(sideways, "JPEG", quality=95), settings=settings)
    assert abs(a.confidence - c.confidence) > abs(a.confidence - b.confidence)


def test_result_carries_timings_model_and_serializes(settings: ScanSettings) -> None:
    result = classifier.classify(encode(noise((1000, 750)), "PNG"), settings=settings)
    t = result.timings
    assert t.decode_ms > 0 and t.inference_ms > 0 and t.vision_ms is None
    assert t.total_ms >= t.decode_ms + t.inference_ms
    card = json.loads((settings.model_path.with_suffix(".json")).read_text())
    assert result.model == {"name": card["name"], "version": card["version"], "sha256": card["sha256"]}
    body = json.loads(json.dumps(result.as_dict(), ensure_ascii=False))
    assert body["classification"] == result.classification
    assert len(body["candidates"]) == 3 and body["source"] == "model"


@pytest.mark.parametrize(("data", "error", "status"), [
    (b"not an image", UnsupportedImage, 415),
    (encode(quadrants(), "GIF"), UnsupportedImage, 415),
    (encode(noise((300, 200)), "JPEG")[:3000], CorruptImage, 422),
    (encode(Image.new("1", (9000, 5000)), "PNG"), TooManyPixels, 422),
], ids=["text", "gif", "truncated", "pixels"])
def test_bad_input_raises_the_domain_error(settings: ScanSettings, data: bytes, error: type, status: int) -> None:
    with pytest.raises(error) as info:
        classifier.classify(data, settings=settings)
    assert info.value.status == status


def test_the_pixel_limit_is_configuration() -> None:
    low = scan_settings(ECO2_SCAN_MAX_PIXELS=1_000_000)
    with pytest.raises(TooManyPixels):
        classifier.classify(encode(quadrants((1200, 900)), "PNG"), settings=low)


def test_thresholds_are_configuration() -> None:
    """With the 미분류 threshold above the coffee's confidence, it is unclassified."""
    strict = scan_settings(ECO2_SCAN_MIN_CONFIDENCE=0.99)
    result = classifier.classify(photo("coffee.png"), settings=strict)
    assert result.category.code == "unclassified"
    assert result.candidates[0].category.code == "non_combustible"


def test_the_process_keeps_one_session_per_model(settings: ScanSettings) -> None:
    a = classifier.get(settings)
    b = classifier.get(scan_settings(ECO2_SCAN_MIN_CONFIDENCE=0.5))
    assert a is not b and a.model is b.model
    assert classifier.get(scan_settings()) is a


def test_no_torch_openai_or_eager_onnxruntime_in_the_process() -> None:
    """Importing the classifier loads neither onnxruntime nor openai; classifying
    loads onnxruntime only; torch never."""
    code = textwrap.dedent("""
        import sys
        from eco2.scan import classifier
        before = {m for m in ("onnxruntime", "openai", "torch") if m in sys.modules}
        classifier.classify(open(sys.argv[1], "rb").read())
        after = {m for m in ("onnxruntime", "openai", "torch") if m in sys.modules}
        print(sorted(before), sorted(after))
    """)
    from .images import PHOTOS

    out = subprocess.run([sys.executable, "-c", code, str(PHOTOS / "coffee.png")], capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin"})
    assert out.stdout.split("\n")[0] == "[] ['onnxruntime']"
