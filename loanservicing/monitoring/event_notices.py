"""Notices raised by ledger events, one per event (see :mod:`loanservicing.monitoring.monitor`
for the kinds and their ids): repayments, restructurings, payment holidays, forbearance,
defaults, closings, held repayments and failed credit reports."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.conversions import to_bytes

from loanservicing.chain.reverts import RevertDecoder, canonical_type
from loanservicing.indexing.codec import REGISTRY, contract_abis
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.calendar import date_of_day
from loanservicing.ledger.state import LoanState, LoanStatus
from loanservicing.monitoring.notices import Notice

__all__ = ["EVENTS", "event_notice"]


class _Fields(NamedTuple):
    """What an event's notice says beyond the loan, the transaction and the time."""

    kind: str
    days_past_due: int
    amount: int
    details: dict[str, Any]


_ONCE = frozenset({"defaulted", "closed"})
"""Kinds raised once per loan: their id names no transaction."""


def event_notice(
    event: str,
    args: Mapping[str, Any],
    state: LoanState,
    decimals: int,
    tx_hash: str,
    ordinal: int,
    timestamp: int,
    block: int,
    now: int,
    paid_late: int | None = None,
) -> Notice:
    """The notice of one ledger event of the loan now in ``state``. Its days past due are
    the loan's at ``now``, except a repayment's: ``paid_late``, the days past due when it was
    made (the index's ``payments.days_past_due``; when unknown, the loan's at ``now``)."""
    dpd = 0
    if event == "RepaymentApplied" and paid_late is not None:
        dpd = paid_late
    elif state.status is LoanStatus.ACTIVE:
        dpd = amount_due(state, max(now, state.last_accrual)).days_past_due
    fields = _READERS.get(event, _closed)(args, state, dpd)
    loan_id = state.loan_id
    once = fields.kind in _ONCE
    return Notice(
        f"{fields.kind}:{loan_id}" if once else f"{fields.kind}:{loan_id}:{tx_hash}:{ordinal}",
        fields.kind,
        loan_id,
        state.borrower,
        fields.days_past_due,
        fields.amount,
        decimals,
        None,
        timestamp,
        block,
        {**fields.details, "tx_hash": tx_hash},
    )


def _payment(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    split = {k: int(args[k]) for k in ("fees", "penalty", "interest", "principal")}
    return _Fields(
        "payment_received",
        dpd,
        sum(split.values()),
        {
            **split,
            "principal_outstanding": int(args["principalOutstanding"]),
            "installments_paid": int(args["installmentsPaid"]),
            "status": LoanStatus(int(args["status"])).label,
            "payer": str(args["payer"]),
        },
    )


def _restructured(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    return _Fields(
        "restructured",
        0,
        int(args["principalOutstanding"]),
        {
            "carried_interest": int(args["carriedInterest"]),
            "fees_owed": int(args["feesOwed"]),
            "penalty_owed": int(args["penaltyOwed"]),
        },
    )


def _held(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    return _Fields(
        "repayment_held",
        dpd,
        int(args["amount"]),
        {
            "lender": str(args["lender"]),
            "token": str(args["token"]),
            "claimable": int(args["claimable"]),
        },
    )


def _report_failed(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    selector, reason = str(args["selector"]), str(args["reason"])
    function, error = _credit_report(selector, reason)
    return _Fields(
        "credit_report_failed",
        dpd,
        0,
        {"function": function, "selector": selector, "error": error, "reason": reason},
    )


def _holiday(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    first, count = int(args["fromInstallment"]), int(args["count"])
    return _Fields(
        "holiday_granted",
        0,
        int(args["capitalisedInterest"]),
        {
            "from_installment": first,
            "through_installment": first + count - 1,
            "count": count,
            "principal_outstanding": int(args["principalOutstanding"]),
        },
    )


def _forbearance_granted(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    return _Fields(
        "forbearance_granted",
        dpd,
        0,
        {
            "servicer": str(args["servicer"]),
            "from_date": date_of_day(int(args["fromDay"])).isoformat(),
            "to_date": date_of_day(int(args["toDay"])).isoformat(),
        },
    )


def _forbearance_ended(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    return _Fields(
        "forbearance_ended",
        dpd,
        0,
        {
            "servicer": str(args["servicer"]),
            "last_date": date_of_day(int(args["lastDay"])).isoformat(),
        },
    )


def _defaulted(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    owed = {
        "principal_outstanding": int(args["principalOutstanding"]),
        "interest_owed": int(args["interestOwed"]),
        "fees_owed": int(args["feesOwed"]),
        "penalty_owed": int(args["penaltyOwed"]),
    }
    return _Fields(
        "defaulted",
        int(args["daysPastDue"]),
        sum(owed.values()),
        {**owed, "servicer": str(args["servicer"])},
    )


def _closed(args: Mapping[str, Any], state: LoanState, dpd: int) -> _Fields:
    return _Fields("closed", 0, state.total_paid, {"after_default": bool(args["afterDefault"])})


_READERS: dict[str, Callable[[Mapping[str, Any], LoanState, int], _Fields]] = {
    "RepaymentApplied": _payment,
    "LoanRestructured": _restructured,
    "RepaymentHeld": _held,
    "CreditReportFailed": _report_failed,
    "HolidayGranted": _holiday,
    "ForbearanceGranted": _forbearance_granted,
    "ForbearanceEnded": _forbearance_ended,
    "LoanDefaulted": _defaulted,
    "LoanClosed": _closed,
}
"""Each event's notice fields."""

EVENTS = tuple(_READERS)
"""The ledger events that raise a notice."""


@lru_cache(maxsize=1)
def _registry_abis() -> tuple[dict[str, str], RevertDecoder]:
    """The credit registry's functions by selector, and a decoder of every error the ledger
    and the registry declare (from the compiled contracts, once)."""
    abis = contract_abis()
    functions = {}
    for item in abis[REGISTRY]:
        if item.get("type") == "function":
            types = ",".join(canonical_type(i) for i in item["inputs"])
            selector = function_signature_to_4byte_selector(f"{item['name']}({types})")
            functions["0x" + selector.hex()] = str(item["name"])
    return functions, RevertDecoder(abis.values())


def _credit_report(selector: str, reason: str) -> tuple[str, str | None]:
    """The registry function a failed report called (its selector if unknown) and its
    decoded error (None when the revert data match no known error)."""
    functions, decoder = _registry_abis()
    decoded = decoder.decode(to_bytes(hexstr=reason)) if reason.startswith("0x") else None
    return functions.get(selector.lower(), selector), None if decoded is None else str(decoded)
