"""What the lender hands the borrower: the statement of a loan over a period, rebuilt from the
ledger's events, and the quote of terms before the loan exists (its schedule, by the ledger
twin, once the ledger has accepted the terms in a simulation).

A statement reads the loan's events (LoanOriginated, ChargesAccrued, RepaymentApplied,
InterestRebated, HolidayGranted, LoanRestructured, LoanDefaulted, Forbearance*, LoanClosed,
RepaymentHeld) from the deployment's block, as :mod:`loanservicing.servicing.schedule_view` and
``Servicer.holiday_grants`` do. The balances are the ones the events state (principal
outstanding; late fees and penalty owed), before the period's first event and after its last;
they reconcile exactly::

    closing principal = opening principal - principal repaid - interest credited to principal
                        + principal added (a holiday's capitalised interest, net of interest
                        paid ahead)

which :func:`loan_statement` checks against each repayment's own stated balance. Late charges
accrue on the ledger only when a call assesses them (a repayment, ``assess``, a default), so a
balance counts the charges assessed by then.

A quote (:func:`quote_origination`) makes the ledger check the terms first: with a borrower
that is a dev account of the node, exactly as ``Servicer.originate`` does (its signature made
with the dev key, the origination simulated); with any other borrower the simulation runs with
the borrower's code overridden for the call by a wallet that accepts any signature (ERC-1271),
so the ledger evaluates every check of the terms, the token, its origination policy and the
calendar as it would with the borrower's real signature. Nothing is signed for sending and
nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loanservicing.chain.abi import ORIGINATOR_ROLE, struct_to_dict
from loanservicing.errors import LoanServicingError
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.installments import Installment, installments_in_force
from loanservicing.ledger.replay import originate
from loanservicing.ledger.state import LedgerEvent
from loanservicing.servicing.borrower_signature import (
    DEFAULT_VALIDITY,
    TERMS_FIELDS,
)
from loanservicing.servicing.origination import not_a_dev_borrower
from loanservicing.servicing.records import LoanTerms
from loanservicing.servicing.servicer import Servicer

__all__ = [
    "STATEMENT_EVENTS",
    "Balance",
    "LoanQuote",
    "LoanStatement",
    "StatementLine",
    "loan_statement",
    "quote_origination",
]

STATEMENT_EVENTS: tuple[str, ...] = (
    "LoanOriginated",
    "ChargesAccrued",
    "RepaymentApplied",
    "InterestRebated",
    "RepaymentHeld",
    "HolidayGranted",
    "LoanRestructured",
    "LoanDefaulted",
    "ForbearanceGranted",
    "ForbearanceEnded",
    "LoanClosed",
)
"""The ledger events of one loan a statement reads (all indexed by ``loanId``)."""


# --------------------------------------------------------------------------- statement


@dataclass(frozen=True)
class Balance:
    """What the loan owes at one moment, as its events state it (token units)."""

    principal: int
    fees: int
    penalty: int


@dataclass(frozen=True)
class StatementLine:
    """One line item of a statement: a repayment, charges assessed, or a servicing event.

    For a ``repayment`` ``amount`` is what was paid and ``fees .. principal`` its split; for
    ``charges`` ``amount`` is what was charged (``fees`` the late fee, ``penalty`` the penalty
    interest); for ``rebate`` the interest paid ahead that was credited to principal; for
    ``holiday`` the interest capitalised (``principal_added`` the principal's change, net of
    interest paid ahead); the balances are those after the line."""

    kind: str
    """repayment, charges, rebate, holiday, restructuring, default, forbearance or closed."""
    timestamp: int
    block_number: int
    log_index: int
    tx_hash: str
    description: str
    principal_outstanding: int
    fees_owed: int
    penalty_owed: int
    amount: int | None = None
    fees: int | None = None
    penalty: int | None = None
    interest: int | None = None
    principal: int | None = None
    principal_added: int = 0
    payer: str = ""
    """Of a repayment: the account that paid."""
    held_for_lender: int = 0
    """Of a repayment: what the ledger held for the lender because its transfer failed."""
    details: Mapping[str, int] = field(default_factory=dict)
    """The event's other numbers (days past due, installments, carried interest...)."""


@dataclass(frozen=True)
class LoanStatement:
    """A loan's statement from ``period_from`` to ``period_to`` (unix seconds, inclusive)."""

    loan_id: int
    borrower: str
    decimals: int
    utc_offset_minutes: int
    originated_timestamp: int
    period_from: int
    period_to: int
    opening: Balance
    closing: Balance
    lines: tuple[StatementLine, ...]
    status: str
    next_due_amount: int | None
    next_due_timestamp: int | None
    as_of_timestamp: int

    def _total(self, kind: str, attribute: str) -> int:
        return sum(getattr(line, attribute) or 0 for line in self.lines if line.kind == kind)

    @property
    def repaid(self) -> int:
        return self._total("repayment", "amount")

    @property
    def principal_repaid(self) -> int:
        return self._total("repayment", "principal")

    @property
    def interest_paid(self) -> int:
        return self._total("repayment", "interest")

    @property
    def fees_paid(self) -> int:
        return self._total("repayment", "fees")

    @property
    def penalty_paid(self) -> int:
        return self._total("repayment", "penalty")

    @property
    def fees_charged(self) -> int:
        return self._total("charges", "fees")

    @property
    def penalty_charged(self) -> int:
        return self._total("charges", "penalty")

    @property
    def interest_credited(self) -> int:
        """Interest paid ahead that a closing repayment credited to principal."""
        return self._total("rebate", "amount")

    @property
    def principal_added(self) -> int:
        """Principal added by holidays (their capitalised interest, net of interest paid
        ahead) and any restructuring."""
        return sum(line.principal_added for line in self.lines)


def loan_statement(
    servicer: Servicer, loan_id: int, period_from: int | None = None, period_to: int | None = None
) -> LoanStatement:
    """The statement of loan ``loan_id`` from ``period_from`` (default and at the earliest:
    its origination) to ``period_to`` (default and at the latest: the chain's now), from its
    events; raises when the events' balances do not reconcile."""
    view = servicer.loan_view(loan_id)
    current = servicer.loan(loan_id)
    now = current.as_of_timestamp
    events = _loan_events(servicer, loan_id)
    if not events or events[0].name != "LoanOriginated":
        raise LoanServicingError(
            f"The node serves no LoanOriginated event of loan {loan_id} since the deployment's "
            f"block {servicer.deployment.block}, so its statement cannot be rebuilt."
        )
    originated = events[0]
    start = originated.timestamp if period_from is None else max(period_from, originated.timestamp)
    end = now if period_to is None else min(period_to, now)
    if end < start:
        raise LoanServicingError(
            f"The statement's period ends before it starts (loan {loan_id} was originated at "
            f"{cal.date_of_day(cal.local_day(originated.timestamp, 0)).isoformat()})."
        )
    principal = int(originated.args["terms"]["principal"])
    fees = penalty = 0
    opening: Balance | None = None
    lines: list[StatementLine] = []
    held = _held_by_tx(events)
    stated: dict[str, tuple[int, int]] = {}
    # The fees and penalty owed that each transaction's events state, after the whole call
    # (a repayment's ChargesAccrued states them after the repayment's waterfall).
    for event in events:
        if "feesOwed" in event.args:
            stated[event.tx_hash] = (int(event.args["feesOwed"]), int(event.args["penaltyOwed"]))
    for k, event in enumerate(events[1:], start=1):
        if event.timestamp > end:
            break
        if opening is None and event.timestamp >= start:
            opening = Balance(principal, fees, penalty)
        a = event.args
        before = principal
        line: dict[str, Any] = {}
        if event.name == "ChargesAccrued":
            charged_fee, charged_penalty = int(a["lateFee"]), int(a["penalty"])
            fees += charged_fee
            penalty += charged_penalty
            missed = int(a["missed"])
            line = {
                "kind": "charges",
                "description": _charges_text(missed, int(a["installmentsAssessedLate"])),
                "amount": charged_fee + charged_penalty,
                "fees": charged_fee,
                "penalty": charged_penalty,
                "details": {
                    "missed": missed,
                    "installments_assessed_late": int(a["installmentsAssessedLate"]),
                },
            }
        elif event.name == "RepaymentApplied":
            split = {k: int(a[k]) for k in ("fees", "penalty", "interest", "principal")}
            principal = int(a["principalOutstanding"])
            fees -= split["fees"]
            penalty -= split["penalty"]
            rebate = _rebate_of(events, event)
            if before - split["principal"] - rebate != principal:
                raise LoanServicingError(
                    f"The statement of loan {loan_id} does not reconcile: the repayment in "
                    f"{event.tx_hash} paid {split['principal']} units of principal (and "
                    f"{rebate} credited) on {before} outstanding, but the ledger states "
                    f"{principal} after it."
                )
            line = {
                "kind": "repayment",
                "description": "Repayment",
                "payer": str(a["payer"]),
                "amount": sum(split.values()),
                **split,
                "held_for_lender": held.get(event.tx_hash, 0),
                "details": {"installments_paid": int(a["installmentsPaid"])},
            }
        elif event.name == "InterestRebated":
            line = {
                "kind": "rebate",
                "description": "Interest paid ahead credited to principal",
                "amount": int(a["amount"]),
            }
        elif event.name == "HolidayGranted":
            principal = int(a["principalOutstanding"])
            first, count = int(a["fromInstallment"]), int(a["count"])
            skipped = (
                f"installment {first}"
                if count == 1
                else f"installments {first} to {first + count - 1}"
            )
            line = {
                "kind": "holiday",
                "description": f"Payment holiday: {skipped} skipped",
                "amount": int(a["capitalisedInterest"]),
                "principal_added": principal - before,
                "details": {"from_installment": first, "count": count},
            }
        elif event.name == "LoanRestructured":
            principal = int(a["principalOutstanding"])
            line = {
                "kind": "restructuring",
                "description": "Restructured: a new schedule from now",
                "principal_added": principal - before,
                "details": {"carried_interest": int(a["carriedInterest"])},
            }
        elif event.name == "LoanDefaulted":
            days = int(a["daysPastDue"])
            line = {
                "kind": "default",
                "description": f"Declared in default at {days} days past due",
                "details": {"days_past_due": days, "interest_owed": int(a["interestOwed"])},
            }
        elif event.name in ("ForbearanceGranted", "ForbearanceEnded"):
            line = {"kind": "forbearance", "description": _forbearance_text(event)}
        elif event.name == "LoanClosed":
            after_default = bool(a["afterDefault"])
            line = {
                "kind": "closed",
                "description": "Closed by recoveries after default"
                if after_default
                else "Closed: paid in full",
            }
        last_of_tx = k + 1 == len(events) or events[k + 1].tx_hash != event.tx_hash
        if last_of_tx and event.tx_hash in stated and stated[event.tx_hash] != (fees, penalty):
            raise LoanServicingError(
                f"The statement of loan {loan_id} does not reconcile: after {event.tx_hash} "
                f"the ledger states {stated[event.tx_hash]} units of fees and penalty owed, "
                f"the charges and repayments add up to {(fees, penalty)}."
            )
        if not line or event.timestamp < start:
            continue
        lines.append(
            StatementLine(
                timestamp=event.timestamp,
                block_number=event.block_number,
                log_index=event.log_index,
                tx_hash=event.tx_hash,
                principal_outstanding=principal,
                fees_owed=fees,
                penalty_owed=penalty,
                **line,
            )
        )
    closing = Balance(principal, fees, penalty)
    statement = LoanStatement(
        loan_id=loan_id,
        borrower=str(view["borrower"]),
        decimals=int(view["decimals"]),
        utc_offset_minutes=int(view["utcOffsetMinutes"]),
        originated_timestamp=originated.timestamp,
        period_from=start,
        period_to=end,
        opening=opening or closing,
        closing=closing,
        lines=tuple(lines),
        status=current.status,
        next_due_amount=current.next_due_amount if current.next_due_timestamp else None,
        next_due_timestamp=current.next_due_timestamp or None,
        as_of_timestamp=now,
    )
    _check_reconciles(statement)
    return statement


def _check_reconciles(s: LoanStatement) -> None:
    expected = s.opening.principal - s.principal_repaid - s.interest_credited + s.principal_added
    if expected != s.closing.principal:
        raise LoanServicingError(
            f"The statement of loan {s.loan_id} does not reconcile: {s.opening.principal} "
            f"opening - {s.principal_repaid} repaid - {s.interest_credited} credited + "
            f"{s.principal_added} added is {expected}, but the ledger states "
            f"{s.closing.principal} outstanding."
        )


def _loan_events(servicer: Servicer, loan_id: int) -> list[LedgerEvent]:
    """The loan's statement events since the deployment's block, in log order, each with its
    block's timestamp."""
    logs: list[Any] = []
    for name in STATEMENT_EVENTS:
        logs.extend(
            getattr(servicer.ledger.events, name)().get_logs(
                from_block=servicer.deployment.block, argument_filters={"loanId": loan_id}
            )
        )
    logs.sort(key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
    times: dict[int, int] = {}
    events = []
    for log in logs:
        number = int(log["blockNumber"])
        if number not in times:
            times[number] = int(servicer.w3.eth.get_block(number)["timestamp"])
        args = dict(log["args"])
        if log["event"] == "LoanOriginated":
            args["terms"] = struct_to_dict(args["terms"], TERMS_FIELDS)
        events.append(
            LedgerEvent(
                str(log["event"]),
                args,
                times[number],
                number,
                int(log["logIndex"]),
                log["transactionHash"].to_0x_hex(),
            )
        )
    return events


def _held_by_tx(events: Sequence[LedgerEvent]) -> dict[str, int]:
    held: dict[str, int] = {}
    for e in events:
        if e.name == "RepaymentHeld":
            held[e.tx_hash] = held.get(e.tx_hash, 0) + int(e.args["amount"])
    return held


def _rebate_of(events: Sequence[LedgerEvent], repayment: LedgerEvent) -> int:
    """The interest credited to principal by the same call as ``repayment``."""
    return sum(
        int(e.args["amount"])
        for e in events
        if e.name == "InterestRebated" and e.tx_hash == repayment.tx_hash
    )


def _charges_text(missed: int, assessed_late: int) -> str:
    if missed:
        installments = "1 installment" if missed == 1 else f"{missed} installments"
        return f"{installments} newly past grace"
    return f"installments through {assessed_late} past grace"


def _forbearance_text(event: LedgerEvent) -> str:
    a = event.args
    if event.name == "ForbearanceGranted":
        first = cal.date_of_day(int(a["fromDay"])).isoformat()
        last = cal.date_of_day(int(a["toDay"])).isoformat()
        return f"Forbearance from {first} to {last}"
    return f"Forbearance ended; last paused date {cal.date_of_day(int(a['lastDay'])).isoformat()}"


# --------------------------------------------------------------------------- quote


@dataclass(frozen=True)
class LoanQuote:
    """The schedule and cost of terms the ledger accepted in a simulation, if originated at
    ``as_of_timestamp`` by ``lender``."""

    terms: LoanTerms
    lender: str
    decimals: int
    first_due_timestamp: int
    """The first installment's due date: the last second of its date in the loan's offset."""
    as_of_timestamp: int
    installments: tuple[Installment, ...]
    borrower_signs_locally: bool
    """The borrower is a dev account of the node: ``loan create`` can sign for it."""

    @property
    def apr_bps(self) -> int:
        return self.terms.apr_bps

    @property
    def total_interest(self) -> int:
        return sum(i.interest for i in self.installments)

    @property
    def total_principal(self) -> int:
        return sum(i.principal for i in self.installments)

    @property
    def total_cost(self) -> int:
        """What the borrower pays over the schedule: principal and interest (no late
        charges)."""
        return self.total_principal + self.total_interest


def quote_origination(
    servicer: Servicer, terms: LoanTerms, *, as_create: bool = False, approve: bool = True
) -> LoanQuote:
    """The schedule of ``terms`` lent by this account now, once the ledger accepted them in a
    simulation; nothing is sent.

    With ``as_create``, every check ``Servicer.originate`` makes before it sends is made too
    (a borrower whose dev key signs, the lender's balance, and with ``approve`` False its
    allowance), so a dry run of ``loan create`` fails where ``loan create`` would.
    """
    servicer._require_role(ORIGINATOR_ROLE, "originate loans")
    now = servicer.now()
    first_due = servicer.first_due_timestamp(terms, now)
    call_terms = servicer.terms_tuple(terms, first_due)
    signed = servicer.dev_borrower_signature(terms.borrower, call_terms, now + DEFAULT_VALIDITY)
    if signed is not None:
        servicer.check_terms(call_terms, signed.deadline, signed.signature)
    elif as_create:
        raise not_a_dev_borrower(terms.borrower)
    else:
        servicer.simulate_terms(call_terms, terms.borrower, now)
    if as_create:
        servicer._require_balance(terms.principal, "the loan's principal")
        if not approve:
            servicer.ensure_allowance(terms.principal, approve=False)
    installments = _quoted_schedule(servicer.account, call_terms, now)
    return LoanQuote(
        terms=terms,
        lender=servicer.account,
        decimals=servicer.token_decimals,
        first_due_timestamp=installments[0].due_timestamp,
        as_of_timestamp=now,
        installments=installments,
        borrower_signs_locally=signed is not None,
    )


def _quoted_schedule(lender: str, call_terms: tuple[Any, ...], now: int) -> tuple[Installment, ...]:
    """The installments of a loan originated at ``now`` on ``call_terms``, by the ledger twin
    (the ``Curve`` and calendar ``loan schedule`` evaluates)."""
    terms = struct_to_dict(call_terms, TERMS_FIELDS)
    state = originate(
        LedgerEvent(
            "LoanOriginated",
            {"loanId": 0, "borrower": terms["borrower"], "lender": lender, "terms": terms},
            now,
        )
    )
    return tuple(installments_in_force(state))
