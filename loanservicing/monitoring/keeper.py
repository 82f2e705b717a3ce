"""The keeper: calls the ledger's ``assess`` for exactly the loans whose on-chain delinquency
is behind the chain's time, so the credit registry records lateness without anyone doing it.

Which loans are behind (calling ``assess`` would record a new bucket or a miss) is decided by
:func:`loanservicing.ledger.delinquency.behind_loans` over the index's loan states.
The calls go through the bulk path (:class:`loanservicing.chain.bulk.BulkSender`): local
signing, one JSON-RPC batch, the receipts collected afterwards.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from loanservicing.chain.accounts import Signer
from loanservicing.chain.bulk import BulkSender
from loanservicing.chain.errors import BulkTransactionFailed
from loanservicing.chain.reverts import RevertDecoder

__all__ = ["ASSESS_GAS", "Keeper", "KeeperReport", "local_account"]

logger = logging.getLogger(__name__)

ASSESS_GAS = 400_000


def local_account(signer: Signer) -> LocalAccount:
    """The local key behind a CLI signer (the bulk path signs with it directly)."""
    account: LocalAccount = signer.local_account()
    return account


@dataclass
class KeeperReport:
    assessed: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    tx_hashes: list[str] = field(default_factory=list)
    gas_used: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "assessed": self.assessed,
            "failed": {str(k): v for k, v in self.failed.items()},
            "transactions": len(self.tx_hashes),
            "gas_used": self.gas_used,
        }


class Keeper:
    """Sends ``assess`` for loans, from one local key, through the bulk path."""

    def __init__(
        self,
        w3: Web3,
        ledger_address: str,
        ledger_abi: Sequence[Mapping[str, Any]],
        account: LocalAccount,
        decoder: RevertDecoder | None = None,
        gas: int = ASSESS_GAS,
    ) -> None:
        self.w3 = w3
        self.ledger = w3.eth.contract(
            address=Web3.to_checksum_address(ledger_address), abi=ledger_abi
        )
        self.account = account
        self.decoder = decoder
        self.gas = gas

    @property
    def address(self) -> str:
        return str(self.account.address)

    def assess(self, loan_ids: Iterable[int]) -> KeeperReport:
        """One ``assess`` per loan, signed locally and sent in JSON-RPC batches; a loan whose
        call reverts (say it was declared in default meanwhile) is reported, not raised."""
        ids = list(loan_ids)
        report = KeeperReport()
        if not ids:
            return report
        sender = BulkSender(self.w3, self.account, self.decoder)
        calls = [(self.ledger.functions.assess(loan_id), self.gas) for loan_id in ids]
        hashes = sender.submit(calls)
        try:
            receipts = sender.receipts(hashes)
            failed_at: dict[int, str] = {}
        except BulkTransactionFailed as exc:
            receipts = list(exc.receipts)
            failed_at = {f.index: str(f) for f in exc.failures}
        for i, (loan_id, receipt) in enumerate(zip(ids, receipts, strict=True)):
            report.tx_hashes.append(hashes[i].to_0x_hex())
            report.gas_used += int(receipt["gasUsed"])
            if i in failed_at:
                report.failed[loan_id] = failed_at[i]
                logger.warning("assess(%d) reverted: %s", loan_id, failed_at[i])
            else:
                report.assessed.append(loan_id)
        return report
