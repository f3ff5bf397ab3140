"""The auth domain (schema ``auth``): accounts, sessions, social login, signing.

- :mod:`eco2.auth.settings`: the auth function's settings;
- :mod:`eco2.auth.oauth`: the authorization-code flow with Google, Kakao, Naver;
- :mod:`eco2.auth.accounts`: users and their social accounts;
- :mod:`eco2.auth.sessions`: refresh-token families; sign-in, renewal, logout;
- :mod:`eco2.auth.signing`: the private key and the tokens it signs.

Token verification, which every function does, is the runtime's :mod:`eco2.tokens`.
"""
