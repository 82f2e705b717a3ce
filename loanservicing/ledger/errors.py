"""The errors of the ledger twin: a replay that does not match the chain, and a call that the
ledger would refuse.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["LedgerCallReverted", "ReplayMismatch"]


class ReplayMismatch(LoanServicingError):
    """The Python replay of a ledger call did not produce the events the chain emitted."""


class LedgerCallReverted(LoanServicingError):
    """The ledger would revert this call: ``error_name`` is its Solidity error (for example
    ``ZeroAmount``, ``LoanNotActive``, ``DefaultThresholdNotReached``)."""

    def __init__(self, error_name: str, detail: str = "") -> None:
        self.error_name = error_name
        super().__init__(f"The ledger reverts with {error_name}{': ' + detail if detail else ''}.")
