"""The errors of the servicing API: loans, terms, funds and roles.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.chain.errors import TransactionReverted
from loanservicing.errors import LoanServicingError

__all__ = [
    "DevChainOnly",
    "InsufficientFunds",
    "InvalidTerms",
    "LedgerRefusal",
    "LoanNotFound",
    "LoanNotOpen",
    "MissingRole",
    "NoSigner",
    "SignatureFileError",
]


class LoanNotFound(LoanServicingError):
    """No loan has this id."""


class LoanNotOpen(LoanServicingError):
    """The loan is closed (or defaulted, for operations on active loans)."""


class InsufficientFunds(LoanServicingError):
    """The paying account lacks tokens or allowance."""


class MissingRole(LoanServicingError):
    """The account lacks the AccessControl role an operation needs."""


class NoSigner(LoanServicingError):
    """A write was asked of a read-only servicer."""


class DevChainOnly(LoanServicingError):
    """A faucet or time-travel request to a node that is not a dev chain."""


class InvalidTerms(LoanServicingError):
    """Origination or restructuring terms outside the ledger's limits."""


class SignatureFileError(LoanServicingError):
    """Signed terms that cannot be read or do not match the loan asked for."""


class LedgerRefusal(TransactionReverted):
    """A ledger revert (nothing sent) explained in the lender's words; ``error_name`` and
    ``revert`` still name the Solidity error."""

    def __init__(self, reverted: TransactionReverted, message: str) -> None:
        super().__init__(reverted.revert, reverted.raw)
        self.args = (message,)
