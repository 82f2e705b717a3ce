"""Who is signed in, and what they may see: the session holds the address that signed in,
whether it was a lender then (servicing staff, or a lender of its own loans) and when it
signed in. Lender pages need a lender; a servicer sees every loan there, any other lender the
loans it lends; a loan page needs the servicer, the loan's lender or its borrower. Regulator
pages need the consent registry's regulator role (checked at sign-in): portfolio-wide figures
and the audit bundle, never a single borrower's loan page.

A session ends ``session_max_age`` seconds after its sign-in however busy it is (the signed
cookie itself also expires that long after the last response that refreshed it)."""

from __future__ import annotations

import time

from starlette.exceptions import HTTPException
from starlette.requests import Request

__all__ = [
    "SignedIn",
    "require_analyst",
    "require_lender",
    "require_regulator",
    "require_signed_in",
    "sign_in",
    "signed_in",
]

_ADDRESS, _LENDER, _SERVICER, _SINCE = "address", "lender", "servicer", "signed_in_at"
_REGULATOR = "regulator"


class SignedIn:
    """The signed-in account of a request: ``lender`` when it sees lender pages, ``servicer``
    when those pages show every loan (else the loans it lends), ``regulator`` when it sees the
    regulator's pages."""

    def __init__(
        self, address: str, lender: bool, servicer: bool = False, regulator: bool = False
    ) -> None:
        self.address = address
        self.servicer = servicer
        self.lender = lender or servicer
        self.regulator = regulator

    @property
    def landing(self) -> str:
        """The page a sign-in leads to."""
        return "/portfolio" if self.lender else "/regulator" if self.regulator else "/me"

    @property
    def sees_every_loan(self) -> bool:
        """Whether portfolio figures cover every lender's loans (servicers, regulators)."""
        return self.servicer or self.regulator

    def is_(self, address: str) -> bool:
        return address.lower() == self.address.lower()

    def lends(self, lender: str) -> bool:
        """Whether the lender pages show a loan lent by ``lender``."""
        return self.servicer or (self.lender and self.is_(lender))

    def may_see(self, borrower: str, lender: str) -> bool:
        """A servicer sees every loan, a lender the loans it lends, a borrower their own."""
        return self.lends(lender) or self.is_(borrower)


def sign_in(
    request: Request, address: str, lender: bool, servicer: bool, regulator: bool = False
) -> None:
    """Start a new session for ``address`` (whatever the old one held is dropped)."""
    request.session.clear()
    request.session[_ADDRESS] = address
    request.session[_LENDER] = lender or servicer
    request.session[_SERVICER] = servicer
    request.session[_REGULATOR] = regulator
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
    session = request.session
    return SignedIn(
        address,
        session.get(_LENDER) is True,
        session.get(_SERVICER) is True,
        session.get(_REGULATOR) is True,
    )


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
        raise HTTPException(403, "This page is for the ledger's servicers and lenders.")
    return who


def require_regulator(request: Request) -> SignedIn:
    """A signed-in regulator; 403 for anyone else signed in."""
    who = require_signed_in(request)
    if not who.regulator:
        raise HTTPException(403, "This page is for supervisors holding the regulator role.")
    return who


def require_analyst(request: Request) -> SignedIn:
    """A signed-in lender or regulator (the portfolio analytics); 403 for anyone else."""
    who = require_signed_in(request)
    if not (who.lender or who.regulator):
        raise HTTPException(403, "This page is for lenders, servicers and regulators.")
    return who
