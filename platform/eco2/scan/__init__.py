"""The scan domain (schema ``scan``): the scan history and what a scan earns.

- :mod:`eco2.scan.history`: the read side of ``scan.scans`` (my lists it,
  character analyses it);
- :mod:`eco2.scan.rewards`: points and a character for a scan, inside the
  caller's transaction.

The scan function's own code (the classifier, recording a scan) lands here too.
"""
