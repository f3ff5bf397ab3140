"""scan: photo -> category -> disposal guide -> reward, in one transaction.

The classifier is an ImageNet model (EfficientNet-Lite0) whose classes a table
maps to waste categories, not a model trained on waste photos (docs/scan.md).
"""

from eco2 import Call, Function
from eco2.scan import endpoint
from eco2.scan.settings import ScanSettings
from eco2.scan.shapes import ScanAnswer, ScanCategory, ScanTask

fn = Function("scan", "/api/v1/scan", settings=ScanSettings)


@fn.post(
    "/classify",
    auth=True,
    body=endpoint.ClassifyRequest,
    query=endpoint.RawQuery,  # a photo sent as the body takes its options here
    media=(*endpoint.IMAGE_TYPES, endpoint.MULTIPART),
    part=endpoint.PART,
    max_body=endpoint.body_limit(fn.settings),
    response=ScanAnswer,
)
def classify(call: Call):
    """Classify a photo, record the scan and award it (JSON, or a stream of stages)."""
    return endpoint.classify(call)


@fn.get("/task/{task_id}", auth=True, response=ScanTask)
def task(call: Call):
    """One of the caller's scans, as it was answered."""
    return endpoint.task(call)


@fn.get("/categories", response=list[ScanCategory], static=True, cache="public, max-age=3600")
def categories(call: Call):
    """The major categories and what each holds."""
    return endpoint.categories(call)


fn.on_worker_start(lambda: endpoint.warm_up(fn.settings))
handle = fn.build()
