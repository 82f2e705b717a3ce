"""``index verify``: the index against the contracts' own views, field by field.

Reads, at the index's checkpoint block, every loan's ``loan(id)`` view and its
``amountDue(id, t)`` at that block's time, every borrower's ``creditRecord``,
``reportersOf``, ``reporterRecord`` for each reporter and ``loanDaysPastDue`` for each of its
loans, each lender's ``claimable`` balance in each token, and ``tokenInfo`` for each token
the admin allowed, and compares them with what the index folded from events; each
disagreement is a :class:`Difference`. (Whether a token is allowed now has no view.)

The ledger changes no loan without an event (an ``assess`` that only settles installments
with nothing due stores nothing), so every difference is a real one.
"""

from __future__ import annotations

import dataclasses
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
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.credit import CreditHistory
from loanservicing.ledger.state import AmountDue, LoanState

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
    balances: int = 0
    """(lender, token) claimable balances compared."""
    tokens: int = 0
    differences: list[Difference] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "block": self.block,
            "loans_checked": self.loans,
            "borrowers_checked": self.borrowers,
            "balances_checked": self.balances,
            "tokens_checked": self.tokens,
            "differences": [d.as_dict() for d in self.differences],
            "ok": not self.differences,
        }


def verify_index(
    db: IndexDB,
    rpc_url: str,
    abis: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> VerifyReport:
    """Compare every indexed loan, credit history, claimable balance and allowed token with
    the ledger's and registry's views, read at the index's checkpoint block, and list every
    difference."""
    from web3 import HTTPProvider, Web3

    abis = abis if abis is not None else contract_abis()
    ledger_address = db.meta("ledger")
    registry_address = db.meta("credit_registry")
    points = db.checkpoints()
    if ledger_address is None or registry_address is None or not points:
        raise IndexDatabaseError(f"The index database {db.name} is empty; run `index sync`.")
    block = min(p.block_number for p in points)
    report = VerifyReport(block=block)
    if block < 0:
        return report
    w3 = Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))
    ledger = w3.eth.contract(address=to_checksum_address(ledger_address), abi=abis[LEDGER])
    registry = w3.eth.contract(address=to_checksum_address(registry_address), abi=abis[REGISTRY])
    try:
        chain = _Chain(ledger, registry, block, abis)
        timestamp = int(w3.eth.get_block(block)["timestamp"])
        loans = _verify_loans(db, chain, timestamp, report)
        _verify_credit(db, chain, loans, report)
        _verify_money(db, chain, loans, report)
    except (requests.ConnectionError, OSError) as exc:
        raise NodeUnreachable(f"The node at {rpc_url} did not answer ({exc}).") from exc
    return report


class _Chain:
    """The views at one block, with struct outputs named from the ABIs."""

    def __init__(
        self,
        ledger: Any,
        registry: Any,
        block: int,
        abis: Mapping[str, Sequence[Mapping[str, Any]]],
    ) -> None:
        self.ledger, self.registry, self.block = ledger, registry, block
        self.ledger_address = str(ledger.address)
        self.loan_fields = output_fields(abis[LEDGER], "loan")
        self.due_fields = output_fields(abis[LEDGER], "amountDue")
        self.record_fields = output_fields(abis[REGISTRY], "creditRecord")

    def ledger_view(self, name: str, *args: Any) -> Any:
        return getattr(self.ledger.functions, name)(*args).call(block_identifier=self.block)

    def registry_view(self, name: str, *args: Any) -> Any:
        return getattr(self.registry.functions, name)(*args).call(block_identifier=self.block)

    def record(self, name: str, *args: Any) -> dict[str, Any]:
        return dict(zip(self.record_fields, self.registry_view(name, *args), strict=True))


def _equal(mine: Any, theirs: Any) -> bool:
    if isinstance(theirs, str):
        return str(mine).lower() == theirs.lower()
    return bool(mine == theirs)


def _differences(
    subject: str, key: str, mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> list[Difference]:
    return [
        Difference(subject, key, name, value, theirs[name])
        for name, value in mine.items()
        if not _equal(value, theirs[name])
    ]


def _verify_loans(
    db: IndexDB, chain: _Chain, timestamp: int, report: VerifyReport
) -> dict[int, LoanState]:
    """Loans: the ``loan`` view and ``amountDue`` at the block's time; the states compared."""
    count = int(chain.ledger_view("loanCount"))
    indexed = db.loans()
    decimals = db.token_decimals()
    checked: dict[int, LoanState] = {}
    for loan_id in range(1, max([count, *indexed.keys()]) + 1):
        state = indexed.get(loan_id)
        if loan_id > count:
            report.differences.append(Difference("loan", str(loan_id), "exists", True, False))
            continue
        view = dict(zip(chain.loan_fields, chain.ledger_view("loan", loan_id), strict=True))
        report.loans += 1
        if state is None:
            report.differences.append(Difference("loan", str(loan_id), "exists", False, True))
            continue
        mine: dict[str, Any] = {**state.as_view(), "decimals": decimals.get(state.token)}
        report.differences += _differences("loan", str(loan_id), mine, view)
        checked[loan_id] = state
        raw = chain.ledger_view("amountDue", loan_id, timestamp)
        theirs = AmountDue.from_view(dict(zip(chain.due_fields, raw, strict=True)))
        report.differences += _differences(
            "amount due", f"{loan_id} at {timestamp}",
            dataclasses.asdict(amount_due(state, timestamp)), dataclasses.asdict(theirs),
        )  # fmt: skip
    return checked


def _verify_credit(
    db: IndexDB, chain: _Chain, loans: Mapping[int, LoanState], report: VerifyReport
) -> None:
    """Borrowers: their records, reporters, each reporter's record and each loan's standing."""
    histories = db.credit_histories()
    borrowers = {str(to_checksum_address(b)) for b in histories}
    borrowers |= {str(to_checksum_address(s.borrower)) for s in loans.values()}
    by_address = {str(to_checksum_address(b)): h for b, h in histories.items()}
    for borrower in sorted(borrowers):
        history = by_address.get(borrower, CreditHistory(borrower))
        report.borrowers += 1
        mine = history.record().as_view()
        report.differences += _differences(
            "credit record", borrower, mine, chain.record("creditRecord", borrower)
        )
        theirs = [str(r) for r in chain.registry_view("reportersOf", borrower)]
        if [r.lower() for r in history.reporters] != [r.lower() for r in theirs]:
            report.differences.append(
                Difference("credit record", borrower, "reporters", history.reporters, theirs)
            )
        reporters = {str(to_checksum_address(r)) for r in (*history.figures, *theirs)}
        for reporter in sorted(reporters):
            mine = history.reporter_record(_spelled(reporter, history.figures)).as_view()
            record = chain.record("reporterRecord", borrower, reporter)
            report.differences += _differences(
                "reporter record", f"{borrower} {reporter}", mine, record
            )
        standing = {(str(to_checksum_address(r)), loan_id) for r, loan_id in history.standing}
        standing |= {
            (chain.ledger_address, loan_id)
            for loan_id, s in loans.items()
            if s.borrower.lower() == borrower.lower()
        }
        for reporter, loan_id in sorted(standing):
            mine_dpd = history.loan_days_past_due(_spelled(reporter, history.figures), loan_id)
            theirs_dpd = int(chain.registry_view("loanDaysPastDue", reporter, loan_id))
            if mine_dpd != theirs_dpd:
                report.differences.append(
                    Difference(
                        "loan standing",
                        f"{reporter} {loan_id}",
                        "daysPastDue",
                        mine_dpd,
                        theirs_dpd,
                    )
                )


def _spelled(address: str, known: Mapping[str, Any]) -> str:
    """``address`` as the index spells it among ``known`` (any case), else as given."""
    return next((k for k in known if k.lower() == address.lower()), address)


def _verify_money(
    db: IndexDB, chain: _Chain, loans: Mapping[int, LoanState], report: VerifyReport
) -> None:
    """Lenders' claimable balances per token, and the tokens the admin allowed."""
    balances = db.claimable_balances()
    pairs = set(balances) | {(s.lender, s.token) for s in loans.values()}
    for lender, token in sorted(pairs):
        report.balances += 1
        mine = balances.get((lender, token), 0)
        theirs = int(chain.ledger_view("claimable", lender, token))
        if mine != theirs:
            report.differences.append(
                Difference("claimable", f"{lender} {token}", "amount", mine, theirs)
            )
    decimals = db.token_decimals()
    for token, allowance in sorted(db.token_allowances().items()):
        report.tokens += 1
        address, token_decimals = chain.ledger_view("tokenInfo", allowance.token_id)
        mine_info = {"token": token, "decimals": decimals.get(token, allowance.decimals)}
        theirs_info = {"token": str(address), "decimals": int(token_decimals)}
        report.differences += _differences("token", str(allowance.token_id), mine_info, theirs_info)
