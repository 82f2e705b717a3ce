"""The errors of indexing: the index database.

A node's JSON-RPC error answers are :class:`loanservicing.chain.errors.RpcError`.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["DatabaseConnectionLost", "IndexDatabaseError"]


class IndexDatabaseError(LoanServicingError):
    """The index database cannot be used (newer schema, other chain or contracts)."""


class DatabaseConnectionLost(IndexDatabaseError):
    """The PostgreSQL server went away while the program was using it (stopped, restarted,
    the session terminated, the network lost): "Lost the connection to the database at
    HOST:PORT: <reason>." (never the password)."""
