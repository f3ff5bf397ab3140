"""Importers (`eco2 import`): turn the original app's reference data (data/sources/)
into eco2's own shipped files (platform/eco2/data/)."""
