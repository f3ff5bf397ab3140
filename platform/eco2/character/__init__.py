"""The character domain (schema ``character``): the catalog and the analysis.

- :mod:`eco2.character.catalog`: the 13 characters (shipped in
  ``data/characters.json``) and who owns which;
- :mod:`eco2.character.analysis`: a user's collection and what to do next.
"""
