"""The scan domain (schema ``scan``): photo to category, guide and reward.

- :mod:`eco2.scan.classifier`: ``classify(image, ...)``: decode, the model, the
  mapping to waste categories, situation tags, the disposal guide in words
  (scan and chat use it; only scan records and rewards);
- :mod:`eco2.scan.history`: the read side of ``scan.scans`` (my lists it;
  character's analysis reads the table in its own statement);
- :mod:`eco2.scan.rewards`: points and a character for a scan, inside the
  caller's transaction.
"""
