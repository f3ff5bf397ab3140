"""The auth domain: accounts, sessions (refresh families), social login.

Token verification, which every function does, is in :mod:`eco2.tokens`.
"""
