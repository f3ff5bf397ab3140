"""The model files: the sha256 is checked at load, a broken card is refused,
the paths are configuration, and the mapping fits the model and the knowledge base."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eco2 import config, knowledge
from eco2.scan import classifier
from eco2.scan.mapping import Mapping, MappingError
from eco2.scan.model import Model, ModelCard, ModelError
from eco2.scan.settings import DATA, ScanSettings

from .conftest import scan_settings
from .images import photo

MODEL = DATA / "efficientnet_lite0.onnx"
MAPPING = DATA / "imagenet_mapping.json"


@pytest.fixture
def model_copy(tmp_path: Path) -> Path:
    """The shipped model, card and class names, copied where a test may damage them."""
    for name in (MODEL.name, MODEL.with_suffix(".json").name, "imagenet_classes.json"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path / MODEL.name


def test_the_shipped_model_matches_its_card() -> None:
    import hashlib

    card = ModelCard.read(MODEL)
    assert hashlib.sha256(MODEL.read_bytes()).hexdigest() == card.sha256
    assert (card.size, card.input_name, len(card.classes)) == (224, "image", 1000)


def test_a_changed_byte_is_refused_at_load(model_copy: Path) -> None:
    data = bytearray(model_copy.read_bytes())
    data[len(data) // 2] ^= 0xFF
    model_copy.write_bytes(bytes(data))
    settings = scan_settings(ECO2_SCAN_MODEL_PATH=model_copy)
    with pytest.raises(ModelError, match="sha256"):
        classifier.classify(photo("coffee.png"), settings=settings)


def test_a_card_with_another_hash_is_refused(model_copy: Path) -> None:
    card_path = model_copy.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["sha256"] = "0" * 64
    card_path.write_text(json.dumps(card))
    model = Model(model_copy)
    with pytest.raises(ModelError, match="sha256"):
        model.load()
    assert not model.loaded


def test_a_missing_or_broken_card_is_refused(model_copy: Path) -> None:
    card_path = model_copy.with_suffix(".json")
    card = json.loads(card_path.read_text())
    card["input"]["shape"] = [1, 3, 224, 224]
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match="shape"):
        Model(model_copy)
    card_path.unlink()
    with pytest.raises(ModelError):
        Model(model_copy)


def test_model_and_mapping_paths_are_configuration(model_copy: Path, tmp_path: Path) -> None:
    """A model dropped in elsewhere, with its own mapping, is used as it is."""
    mapping = json.loads(MAPPING.read_text())
    # A stricter table: only the coffee's classes, sent to another category.
    mapping["categories"] = [{"category": "food", "why": "test", "classes": [
        {"index": 967, "class": "espresso"}, {"index": 968, "class": "cup"}]}]
    path = tmp_path / "mapping.json"
    path.write_text(json.dumps(mapping))
    settings = scan_settings(ECO2_SCAN_MODEL_PATH=model_copy, ECO2_SCAN_MAPPING_PATH=path)
    result = classifier.classify(photo("coffee.png"), settings=settings)
    assert result.category.code == "food" and len(result.candidates) == 1
    assert classifier.get(settings).model.card.file == model_copy


def test_a_missing_model_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError) as info:
        config.load(ScanSettings, {"ECO2_SCAN_MODEL_PATH": str(tmp_path / "nope.onnx")})
    assert "ECO2_SCAN_MODEL_PATH" in info.value.message


# --- the mapping ----------------------------------------------------------------------

def test_the_mapping_covers_only_real_imagenet_classes() -> None:
    classes = ModelCard.read(MODEL).classes
    raw = json.loads(MAPPING.read_text())
    seen = set()
    for group in raw["categories"]:
        for row in group["classes"]:
            assert 0 <= row["index"] < 1000 and classes[row["index"]] == row["class"], row
            assert row["index"] not in seen
            seen.add(row["index"])
    assert len(seen) > 200
    Mapping.load(MAPPING, classes, knowledge.load())  # and it loads


def test_the_mapping_sends_items_to_their_own_category() -> None:
    kb = knowledge.load()
    for group in json.loads(MAPPING.read_text())["categories"]:
        assert kb.category(group["category"]) is not None and group["why"]
        for row in group["classes"]:
            if "item" in row:
                assert kb.item(row["item"]).category == group["category"], row


@pytest.mark.parametrize(("name", "code"), [
    ("beer bottle", "glass"), ("wine bottle", "glass"), ("water bottle", "clear_pet"),
    ("pop bottle", "clear_pet"), ("carton", "paper"), ("envelope", "paper"), ("packet", "paper"),
    ("plastic bag", "vinyl"), ("cellular telephone", "electronics"), ("laptop", "electronics"),
    ("monitor", "electronics"), ("jersey", "textile"), ("running shoe", "textile"),
    ("backpack", "textile"), ("banana", "food"), ("broccoli", "food"), ("espresso", "non_combustible"),
])
def test_the_issue_examples_are_in_the_table(name: str, code: str) -> None:
    classes = ModelCard.read(MODEL).classes
    mapping = Mapping.load(MAPPING, classes, knowledge.load())
    owner = [e.category.code for e in mapping.entries if classes.index(name) in e.indices]
    assert owner == [code]


def test_a_mapping_for_another_model_is_refused(tmp_path: Path) -> None:
    classes = list(ModelCard.read(MODEL).classes)
    classes[440], classes[907] = classes[907], classes[440]  # another model's class order
    with pytest.raises(MappingError, match="not the model's"):
        Mapping.load(MAPPING, classes, knowledge.load())


@pytest.mark.parametrize(("edit", "message"), [
    (lambda g: g[0]["classes"].append({"index": 907, "class": "wine bottle"}), "mapped twice"),
    (lambda g: g[0].update(category="nonsense"), "unknown category"),
    (lambda g: g[0]["classes"][0].update(item="beer-bottle"), "not in"),
    (lambda g: g[0]["classes"][0].update(index=1000), "not the model's"),
])
def test_a_bad_mapping_is_refused(tmp_path: Path, edit, message: str) -> None:
    raw = json.loads(MAPPING.read_text())
    edit(raw["categories"])
    path = tmp_path / "m.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(MappingError, match=message):
        Mapping.load(path, ModelCard.read(MODEL).classes, knowledge.load())
