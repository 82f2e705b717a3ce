"""``index verify``: the index against the contracts' own views, field by field.

Reads every loan's ``loan(id)`` view and every borrower's ``creditRecord`` from the ledger and
the registry at the index's checkpoint block and compares them with the states the index
folded from events; each disagreement is a :class:`Difference`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests
from eth_utils.address import to_checksum_address

from loanservicing.chain.abi import output_fields
from loanservicing.errors import NodeUnreachable
from loanservicing.indexing.codec import LEDGER, REGISTRY, contract_abis
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.errors import IndexDatabaseError

__all__ = ["Difference", "VerifyReport", "verify_index"]


@dataclass(frozen=True)
class Difference:
    """One field where the index and the chain disagree."""

    subject: str
    key: str
    field: str
    index_value: Any
    chain_value: Any

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "key": self.key,
            "field": self.field,
            "index": self.index_value,
            "chain": self.chain_value,
        }

    def sentence(self) -> str:
        return (
            f"{self.subject} {self.key}: {self.field} is {self.index_value!r} in the index "
            f"but {self.chain_value!r} on chain."
        )


@dataclass
class VerifyReport:
    """The outcome of comparing the index with the contracts' views at one block."""

    block: int
    loans: int = 0
    borrowers: int = 0
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "loans_checked": self.loans,
            "borrowers_checked": self.borrowers,
            "differences": [d.as_dict() for d in self.differences],
            "ok": not self.differences,
        }


def verify_index(
    db: IndexDB,
    rpc_url: str,
    abis: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> VerifyReport:
    """Compare every indexed loan and credit record with the ledger's and registry's views,
    read at the index's checkpoint block, and list every difference."""
    from web3 import HTTPProvider, Web3

    abis = abis if abis is not None else contract_abis()
    ledger_address = db.meta("ledger")
    registry_address = db.meta("credit_registry")
    points = db.checkpoints()
    if ledger_address is None or registry_address is None or not points:
        raise IndexDatabaseError(f"The index database {db.path} is empty; run `index sync`.")
    block = min(p.block_number for p in points)
    report = VerifyReport(block=block)
    if block < 0:
        return report
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
    ledger = w3.eth.contract(address=to_checksum_address(ledger_address), abi=abis[LEDGER])
    registry = w3.eth.contract(address=to_checksum_address(registry_address), abi=abis[REGISTRY])
    view_fields = output_fields(abis[LEDGER], "loan")
    record_fields = output_fields(abis[REGISTRY], "creditRecord")
    try:
        count = int(ledger.functions.loanCount().call(block_identifier=block))
        indexed = db.loans()
        decimals = db.token_decimals()
        borrowers: set[str] = set(db.credit_records())
        for loan_id in range(1, max([count, *indexed.keys()]) + 1):
            state = indexed.get(loan_id)
            if loan_id > count:
                report.differences.append(Difference("loan", str(loan_id), "exists", True, False))
                continue
            raw = ledger.functions.loan(loan_id).call(block_identifier=block)
            view = dict(zip(view_fields, raw, strict=True))
            borrowers.add(str(view["borrower"]))
            report.loans += 1
            if state is None:
                report.differences.append(Difference("loan", str(loan_id), "exists", False, True))
                continue
            mine: dict[str, Any] = {**state.as_view(), "decimals": decimals.get(state.token)}
            for name, value in mine.items():
                theirs = view[name]
                if isinstance(theirs, str):
                    equal = str(value).lower() == theirs.lower()
                else:
                    equal = value == theirs
                if not equal:
                    report.differences.append(Difference("loan", str(loan_id), name, value, theirs))
        records = db.credit_records()
        for borrower in sorted(borrowers):
            raw = registry.functions.creditRecord(borrower).call(block_identifier=block)
            chain = dict(zip(record_fields, raw, strict=True))
            report.borrowers += 1
            record = records.get(borrower)
            mine_record = record.as_view() if record is not None else dict.fromkeys(chain, 0)
            for name, theirs in chain.items():
                if mine_record[name] != theirs:
                    report.differences.append(
                        Difference("credit record", borrower, name, mine_record[name], theirs)
                    )
    except (requests.ConnectionError, OSError) as exc:
        raise NodeUnreachable(f"The node at {rpc_url} did not answer ({exc}).") from exc
    return report
