"""The portal's errors: a sign-in the portal refuses, an audit bundle or file it does not hold, a
payoff it cannot quote, with the sentence the page shows."""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["BundleNotFound", "DevSignInRefused", "PayoffRefused", "SignInRefused"]


class SignInRefused(LoanServicingError):
    """A Sign-In with Ethereum message or signature the portal does not accept."""


class DevSignInRefused(LoanServicingError):
    """The dev-chain sign-in asked for where it may not run, or for an account it does not
    hold the key of."""


class BundleNotFound(LoanServicingError):
    """No audit bundle of that id, or no file of that name in it."""


class PayoffRefused(LoanServicingError):
    """A date or loan the borrower page cannot quote a payoff for."""
