"""The errors of indexing: the index database and the node's JSON-RPC answers.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from loanservicing.errors import LoanServicingError

__all__ = ["IndexDatabaseError", "RpcError"]


class IndexDatabaseError(LoanServicingError):
    """The index database cannot be used (newer schema, other chain or contracts)."""


class RpcError(LoanServicingError):
    """The node answered a JSON-RPC request with an error."""

    def __init__(self, method: str, code: int | None, message: str) -> None:
        super().__init__(f"The node answered {method} with error {code}: {message}.")
        self.method = method
        self.code = code
        self.rpc_message = message
