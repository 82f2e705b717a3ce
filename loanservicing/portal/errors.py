"""The portal's errors: a sign-in the portal refuses, with the sentence the page shows."""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["DevSignInRefused", "SignInRefused"]


class SignInRefused(LoanServicingError):
    """A Sign-In with Ethereum message or signature the portal does not accept."""


class DevSignInRefused(LoanServicingError):
    """The dev-chain sign-in asked for where it may not run, or for an account it does not
    hold the key of."""
