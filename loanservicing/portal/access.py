"""Who is signed in, and what they may see: the session holds the address that signed in,
whether it held a lender's role then and when it signed in; lender pages need that role, a
loan page needs the role or the loan's borrower.

A session ends ``session_max_age`` seconds after its sign-in however busy it is (the signed
cookie itself also expires that long after the last response that refreshed it)."""

from __future__ import annotations

import time

from starlette.exceptions import HTTPException
from starlette.requests import Request

__all__ = ["SignedIn", "require_lender", "require_signed_in", "sign_in", "signed_in"]

_ADDRESS, _LENDER, _SINCE = "address", "lender", "signed_in_at"


class SignedIn:
    """The signed-in account of a request."""

    def __init__(self, address: str, lender: bool) -> None:
        self.address = address
        self.lender = lender

    def may_see(self, borrower: str) -> bool:
        """A lender sees every loan; a borrower only their own."""
        return self.lender or borrower.lower() == self.address.lower()


def sign_in(request: Request, address: str, lender: bool) -> None:
    """Start a new session for ``address`` (whatever the old one held is dropped)."""
    request.session.clear()
    request.session[_ADDRESS] = address
    request.session[_LENDER] = lender
    request.session[_SINCE] = int(time.time())


def signed_in(request: Request) -> SignedIn | None:
    """The account signed in on this session, None when none is or its time is up."""
    address = request.session.get(_ADDRESS)
    since = request.session.get(_SINCE)
    if not isinstance(address, str) or not isinstance(since, int):
        return None
    if time.time() - since > request.app.state.session_max_age:
        request.session.clear()
        return None
    return SignedIn(address, request.session.get(_LENDER) is True)


def require_signed_in(request: Request) -> SignedIn:
    """The signed-in account; 401 (the page sends the browser to sign in) otherwise."""
    who = signed_in(request)
    if who is None:
        raise HTTPException(401, "Sign in to see this page.")
    return who


def require_lender(request: Request) -> SignedIn:
    """A signed-in lender; 403 for anyone else signed in."""
    who = require_signed_in(request)
    if not who.lender:
        raise HTTPException(403, "This page is for the ledger's servicers and admins.")
    return who
