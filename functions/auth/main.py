"""auth: Sign-in with Google, Kakao and Naver; tokens, refresh and logout; the JWKS."""

from eco2 import Function

fn = Function("auth", "/api/v1/auth")

handle = fn.build()
