"""The errors of indexing: the index database.

A node's JSON-RPC error answers are :class:`loanservicing.chain.errors.RpcError`.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["IndexDatabaseError"]


class IndexDatabaseError(LoanServicingError):
    """The index database cannot be used (newer schema, other chain or contracts)."""
