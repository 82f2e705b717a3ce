"""Boarding an existing loan book: many originations checked together, then sent through the
bulk path (``loan import BOOK.csv``).

A loan exists on the ledger only with its borrower's signature, so every entry of a book is
either terms for a borrower whose key the node holds (a dev account: signed here, as ``loan
create`` does) or terms its borrower signed already (the file ``loan sign-terms`` writes).
:func:`plan_boarding` checks every entry before anything is sent and refuses the whole book
with one reason per bad entry (:class:`BookRefused`): each origination is simulated by the
ledger (every check but the signature's, so a borrower's later entries can be checked before
its earlier ones are mined), signed files are verified against the borrower's nonce that
entry will find (its nonce on chain plus its entries ahead), and the lender must hold every
token's total. :func:`board` then approves each token's total once and sends the
originations as JSON-RPC batches from the lender's local key, in entry order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from eth_typing import ChecksumAddress
from web3.contract import Contract
from web3.logs import DISCARD
from web3.types import TxReceipt

from loanservicing.chain.abi import ORIGINATOR_ROLE
from loanservicing.chain.bulk import BulkSender
from loanservicing.chain.errors import BulkTransactionFailed
from loanservicing.errors import LoanServicingError
from loanservicing.servicing.borrower_signature import (
    DEFAULT_VALIDITY,
    SignedTerms,
    origination_typed_data,
    sign_terms,
)
from loanservicing.servicing.origination import not_a_dev_borrower
from loanservicing.servicing.records import LoanTerms
from loanservicing.servicing.servicer import Servicer

__all__ = [
    "BATCH",
    "Boarded",
    "BoardingPlan",
    "BookEntry",
    "BookRefused",
    "board",
    "plan_boarding",
]

BATCH = 100
"""Originations per JSON-RPC batch (and per step of the progress callback)."""

ORIGINATE_GAS = 700_000
"""Gas limit of one origination: a cap, not a price (only the gas used is paid); the
costliest schedule (calendar months, a holiday-ready curve) uses under half of it."""


@dataclass(frozen=True)
class BookEntry:
    """One loan of a book: its ``row`` (the file's line number), the token it is lent in, and
    either ``terms`` (a dev-account borrower, signed here) or ``signed`` (by its borrower)."""

    row: int
    token: ChecksumAddress
    terms: LoanTerms | None = None
    signed: SignedTerms | None = None


class BookRefused(LoanServicingError):
    """The book was not boarded: ``reasons`` holds ``(row, sentence)`` for each bad entry (row
    0: the book as a whole, such as the lender's balance). Nothing was sent."""

    def __init__(self, reasons: Sequence[tuple[int, str]], entries: int) -> None:
        self.reasons = list(reasons)
        rows = sorted({r for r, _ in self.reasons if r})
        if len(self.reasons) == 1 and (not rows or not entries):  # the book as a whole
            (_, reason), *_ = self.reasons
            lower = reason[:1].lower() + reason[1:] if reason.startswith("The ") else reason
            super().__init__(f"The book was not boarded: {lower.rstrip('.')}; nothing was sent.")
            return
        lines = [f"The book was not boarded: {len(rows)} of {entries} rows are bad; nothing "
                 "was sent."]  # fmt: skip
        lines += [f"  row {r}: {m}" if r else f"  {m}" for r, m in self.reasons]
        super().__init__("\n".join(lines))

    @property
    def details(self) -> dict[str, object]:
        return {"rows": [{"row": r, "reason": m} for r, m in self.reasons]}


@dataclass(frozen=True)
class PlannedLoan:
    row: int
    signed: SignedTerms


@dataclass(frozen=True)
class BoardingPlan:
    """Every entry signed and checked, in order, and what the lender lends in each token."""

    loans: tuple[PlannedLoan, ...]
    principal_by_token: dict[ChecksumAddress, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Boarded:
    """One loan boarded: the row it came from and the loan it became."""

    row: int
    loan_id: int
    borrower: ChecksumAddress
    token: ChecksumAddress
    principal: int
    tx_hash: str


def plan_boarding(servicer: Servicer, entries: Sequence[BookEntry]) -> BoardingPlan:
    """Check and sign every entry as the lender ``servicer.account``; raise BookRefused with
    every bad entry's reason, before anything is sent."""
    servicer._require_role(ORIGINATOR_ROLE, "originate loans")
    now = servicer.now()
    chain_id = int(servicer.w3.eth.chain_id)
    lender = servicer.account
    nonces: dict[ChecksumAddress, int] = {}
    reasons: list[tuple[int, str]] = []
    planned: list[PlannedLoan] = []
    totals: dict[ChecksumAddress, int] = {}

    def next_nonce(borrower: ChecksumAddress) -> int:
        if borrower not in nonces:
            nonces[borrower] = servicer.nonce_of(borrower)
        return nonces[borrower]

    for entry in entries:
        try:
            bound = servicer.with_token(entry.token)
            if entry.signed is not None:
                signed = entry.signed
                bound.verify_signed_terms(signed, next_nonce(signed.borrower))
                bound.simulate_terms(signed.terms, signed.borrower, now)
            elif entry.terms is not None:
                terms = entry.terms
                call_terms = bound.terms_tuple(terms, bound.first_due_timestamp(terms, now))
                bound.simulate_terms(call_terms, terms.borrower, now)
                key = bound.dev_account(terms.borrower)
                if key is None:
                    raise not_a_dev_borrower(terms.borrower)
                typed = origination_typed_data(
                    bound.ledger.address,
                    chain_id,
                    call_terms,
                    lender,
                    next_nonce(terms.borrower),
                    now + DEFAULT_VALIDITY,
                )
                signed = SignedTerms(typed, sign_terms(key.local_account(), typed))
            else:  # pragma: no cover - the reader gives one or the other
                raise LoanServicingError("The row gives neither terms nor signed terms.")
        except LoanServicingError as exc:
            reasons.append((entry.row, str(exc)))
            continue
        nonces[signed.borrower] = next_nonce(signed.borrower) + 1
        totals[signed.token] = totals.get(signed.token, 0) + signed.principal
        planned.append(PlannedLoan(entry.row, signed))
    for token, total in totals.items():
        bound = servicer.with_token(token)
        held = bound.balance(lender)
        if held < total:
            reasons.append(
                (0, f"The lender {lender} holds {bound.show(held)} but the book lends "
                    f"{bound.show(total)}.")
            )  # fmt: skip
    if reasons:
        raise BookRefused(reasons, len(entries))
    return BoardingPlan(tuple(planned), totals)


def board(
    servicer: Servicer,
    plan: BoardingPlan,
    progress: Callable[[int], None] | None = None,
    approve: bool = True,
) -> list[Boarded]:
    """Approve each token's total (or, without ``approve``, refuse a short allowance) and send
    the planned originations in batches of :data:`BATCH`; ``progress`` is told how many were
    mined after each batch. A revert stops the import with what was boarded before it."""
    for token, total in plan.principal_by_token.items():
        servicer.with_token(token).ensure_allowance(total, approve)
    sender = BulkSender(servicer.w3, servicer.local_key(), servicer.decoder)
    boarded: list[Boarded] = []
    ledger = servicer.ledger
    for start in range(0, len(plan.loans), BATCH):
        chunk = plan.loans[start : start + BATCH]
        calls = [
            (ledger.functions.originate(p.signed.terms, p.signed.deadline, p.signed.signature),
             ORIGINATE_GAS)
            for p in chunk
        ]  # fmt: skip
        try:
            receipts = sender.send_all(calls)
        except BulkTransactionFailed as exc:
            boarded += _originated(ledger, chunk, exc.receipts)
            first = exc.failures[0]
            raise LoanServicingError(
                f"The import stopped at row {chunk[first.index].row} ({first}); "
                f"{len(boarded)} of {len(plan.loans)} rows were boarded (`loan list` shows "
                "them): import the others once that row is mended."
            ) from None
        boarded += _originated(ledger, chunk, receipts)
        if progress is not None:
            progress(len(chunk))
    return boarded


def _originated(
    ledger: Contract, chunk: Sequence[PlannedLoan], receipts: Sequence[TxReceipt]
) -> list[Boarded]:
    """The loans the mined receipts of ``chunk`` originated (reverted ones left out)."""
    boarded = []
    for p, receipt in zip(chunk, receipts, strict=True):
        if not receipt["status"]:
            continue
        (event,) = ledger.events.LoanOriginated().process_receipt(receipt, errors=DISCARD)
        boarded.append(
            Boarded(
                p.row,
                int(event["args"]["loanId"]),
                p.signed.borrower,
                p.signed.token,
                p.signed.principal,
                receipt["transactionHash"].to_0x_hex(),
            )
        )
    return boarded
