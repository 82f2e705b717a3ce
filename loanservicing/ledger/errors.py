"""The errors of the ledger twin: a replay that does not match the chain.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["ReplayMismatch"]


class ReplayMismatch(LoanServicingError):
    """The Python replay of a ledger call did not produce the events the chain emitted."""
