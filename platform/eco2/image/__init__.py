"""image: presigned photo uploads to the S3 bucket that scan and chat read from.

``settings`` (the bucket's configuration, shared with scan and chat),
``storage`` (boto3, imported on first use), ``uploads`` (keys, the pending
record, the callback's checks).
"""
