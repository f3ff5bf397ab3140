"""Importers: turn the original app's reference data into eco2's own shipped files."""
