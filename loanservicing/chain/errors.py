"""The errors of talking to nodes: JSON-RPC answers, accounts, transactions, reverts and the
bulk path.

Every one derives from :class:`loanservicing.errors.LoanServicingError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hexbytes import HexBytes
from web3.types import TxReceipt

from loanservicing.errors import LoanServicingError, NodeUnreachable

if TYPE_CHECKING:
    from loanservicing.chain.receipts import BulkFailure
    from loanservicing.chain.reverts import DecodedRevert

_MAX_FAILURES_SHOWN = 5

__all__ = [
    "AccountError",
    "BulkSubmissionRejected",
    "BulkTransactionFailed",
    "ReceiptTimeout",
    "RpcError",
    "RpcTimeout",
    "TransactionReverted",
]


class RpcError(LoanServicingError):
    """The node answered a JSON-RPC request with an error."""

    def __init__(
        self, method: str, code: int | None, message: str, data: object | None = None
    ) -> None:
        super().__init__(f"The node answered {method} with error {code}: {message}.")
        self.method = method
        self.code = code
        self.rpc_message = message
        self.data = data


class RpcTimeout(NodeUnreachable):
    """The node did not answer a JSON-RPC request within the timeout."""


class AccountError(LoanServicingError):
    """No usable signing account: a missing variable, a bad key, a wrong password."""


class BulkSubmissionRejected(LoanServicingError):
    """The node refused one or more raw transactions of a batch (nonce, funds, fee too low)."""

    def __init__(
        self,
        sender: str,
        rejected: Sequence[tuple[int, int, str]],
        accepted: Sequence[HexBytes],
    ) -> None:
        self.rejected = list(rejected)  # (index in the input, nonce, the node's message)
        self.accepted = list(accepted)  # hashes the node took, in input order
        index, nonce, message = self.rejected[0]
        more = f" (and {len(self.rejected) - 1} more)" if len(self.rejected) > 1 else ""
        super().__init__(
            f"The node rejected bulk transaction #{index} from {sender} (nonce {nonce}): "
            f"{message}{more}; {len(self.accepted)} earlier transactions were accepted and "
            "nothing after that batch was sent."
        )


class BulkTransactionFailed(LoanServicingError):
    """Some transactions of a bulk submission were mined but reverted (status 0)."""

    def __init__(self, failures: Sequence[BulkFailure], receipts: Sequence[TxReceipt]) -> None:
        self.failures = list(failures)
        self.receipts = list(receipts)
        shown = ", ".join(str(f) for f in self.failures[:_MAX_FAILURES_SHOWN])
        if len(self.failures) > _MAX_FAILURES_SHOWN:
            shown += f" and {len(self.failures) - _MAX_FAILURES_SHOWN} more"
        super().__init__(
            f"{len(self.failures)} of {len(self.receipts)} bulk transactions reverted: {shown}."
        )

    @property
    def indices(self) -> list[int]:
        return [f.index for f in self.failures]


class ReceiptTimeout(LoanServicingError):
    """Receipts did not all arrive in time."""


class TransactionReverted(LoanServicingError):
    """The chain rejected a call or transaction; ``revert`` names the Solidity error."""

    def __init__(self, revert: DecodedRevert | None, raw: bytes = b"", action: str = "") -> None:
        self.revert = revert
        self.raw = raw
        what = f"{action} " if action else "The transaction "
        if revert is not None:
            message = f"{what}reverted with {revert}."
        elif raw:
            message = f"{what}reverted with unknown error data 0x{raw.hex()}."
        else:
            message = f"{what}reverted without a reason."
        super().__init__(message[0].upper() + message[1:])

    @property
    def error_name(self) -> str | None:
        return self.revert.name if self.revert else None
