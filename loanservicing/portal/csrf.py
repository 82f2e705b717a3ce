"""CSRF tokens: one random token per session, put in every form that changes something and
checked on its POST."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

__all__ = ["csrf_token", "valid_csrf"]

_KEY = "csrf"


def csrf_token(request: Request) -> str:
    """The session's token (made on first use)."""
    token = request.session.get(_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[_KEY] = token
    return token


def valid_csrf(request: Request, submitted: object) -> bool:
    """Whether ``submitted`` is the session's token."""
    expected = request.session.get(_KEY)
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and hmac.compare_digest(expected, submitted)
    )
