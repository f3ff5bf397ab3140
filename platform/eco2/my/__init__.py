"""The my domain (schema ``my``): the user's profile and points.

- :mod:`eco2.my.profiles`: the profile, created on first read, the nickname
  and phone rules, and the account's deletion;
- :mod:`eco2.my.points`: the point rules, the level table and the ledger.
"""
