"""Notices raised by ledger events, one per event (see :mod:`loanservicing.monitoring.monitor`
for the kinds and their ids): repayments, restructurings, payment holidays, forbearance,
defaults, closings, held repayments and failed credit reports."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.conversions import to_bytes

from loanservicing.chain.reverts import RevertDecoder, canonical_type
from loanservicing.indexing.codec import REGISTRY, contract_abis
from loanservicing.ledger.accounting import amount_due
from loanservicing.ledger.calendar import date_of_day
from loanservicing.ledger.state import LoanState, LoanStatus
from loanservicing.monitoring.notices import Notice

__all__ = ["EVENTS", "event_notice"]

EVENTS = (
    "RepaymentApplied",
    "LoanRestructured",
    "HolidayGranted",
    "ForbearanceGranted",
    "ForbearanceEnded",
    "LoanDefaulted",
    "LoanClosed",
    "RepaymentHeld",
    "CreditReportFailed",
)
"""The ledger events that raise a notice."""


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
) -> Notice:
    loan_id = state.loan_id
    dpd = 0
    if state.status is LoanStatus.ACTIVE:
        dpd = amount_due(state, max(now, state.last_accrual)).days_past_due
    if event == "RepaymentApplied":
        split = {k: int(args[k]) for k in ("fees", "penalty", "interest", "principal")}
        return Notice(
            f"payment_received:{loan_id}:{tx_hash}:{ordinal}",
            "payment_received",
            loan_id,
            state.borrower,
            dpd,
            sum(split.values()),
            decimals,
            None,
            timestamp,
            block,
            {
                **split,
                "principal_outstanding": int(args["principalOutstanding"]),
                "installments_paid": int(args["installmentsPaid"]),
                "status": LoanStatus(int(args["status"])).label,
                "payer": str(args["payer"]),
                "tx_hash": tx_hash,
            },
        )
    if event == "LoanRestructured":
        return Notice(
            f"restructured:{loan_id}:{tx_hash}:{ordinal}",
            "restructured",
            loan_id,
            state.borrower,
            0,
            int(args["principalOutstanding"]),
            decimals,
            None,
            timestamp,
            block,
            {
                "carried_interest": int(args["carriedInterest"]),
                "fees_owed": int(args["feesOwed"]),
                "penalty_owed": int(args["penaltyOwed"]),
                "tx_hash": tx_hash,
            },
        )
    if event == "RepaymentHeld":
        return Notice(
            f"repayment_held:{loan_id}:{tx_hash}:{ordinal}",
            "repayment_held",
            loan_id,
            state.borrower,
            dpd,
            int(args["amount"]),
            decimals,
            None,
            timestamp,
            block,
            {
                "lender": str(args["lender"]),
                "token": str(args["token"]),
                "claimable": int(args["claimable"]),
                "tx_hash": tx_hash,
            },
        )
    if event == "CreditReportFailed":
        selector, reason = str(args["selector"]), str(args["reason"])
        function, error = _credit_report(selector, reason)
        return Notice(
            f"credit_report_failed:{loan_id}:{tx_hash}:{ordinal}",
            "credit_report_failed",
            loan_id,
            state.borrower,
            dpd,
            0,
            decimals,
            None,
            timestamp,
            block,
            {
                "function": function,
                "selector": selector,
                "error": error,
                "reason": reason,
                "tx_hash": tx_hash,
            },
        )
    if event == "HolidayGranted":
        first, count = int(args["fromInstallment"]), int(args["count"])
        return Notice(
            f"holiday_granted:{loan_id}:{tx_hash}:{ordinal}",
            "holiday_granted",
            loan_id,
            state.borrower,
            0,
            int(args["capitalisedInterest"]),
            decimals,
            None,
            timestamp,
            block,
            {
                "from_installment": first,
                "through_installment": first + count - 1,
                "count": count,
                "principal_outstanding": int(args["principalOutstanding"]),
                "tx_hash": tx_hash,
            },
        )
    if event in ("ForbearanceGranted", "ForbearanceEnded"):
        granted = event == "ForbearanceGranted"
        last = int(args["toDay"] if granted else args["lastDay"])
        details: dict[str, Any] = {"servicer": str(args["servicer"]), "tx_hash": tx_hash}
        if granted:
            details["from_date"] = date_of_day(int(args["fromDay"])).isoformat()
        details["to_date" if granted else "last_date"] = date_of_day(last).isoformat()
        kind = "forbearance_granted" if granted else "forbearance_ended"
        return Notice(
            f"{kind}:{loan_id}:{tx_hash}:{ordinal}",
            kind,
            loan_id,
            state.borrower,
            dpd,
            0,
            decimals,
            None,
            timestamp,
            block,
            details,
        )
    if event == "LoanDefaulted":
        owed = sum(
            int(args[k])
            for k in ("principalOutstanding", "interestOwed", "feesOwed", "penaltyOwed")
        )
        return Notice(
            f"defaulted:{loan_id}",
            "defaulted",
            loan_id,
            state.borrower,
            int(args["daysPastDue"]),
            owed,
            decimals,
            None,
            timestamp,
            block,
            {
                "principal_outstanding": int(args["principalOutstanding"]),
                "interest_owed": int(args["interestOwed"]),
                "fees_owed": int(args["feesOwed"]),
                "penalty_owed": int(args["penaltyOwed"]),
                "servicer": str(args["servicer"]),
                "tx_hash": tx_hash,
            },
        )
    return Notice(
        f"closed:{loan_id}",
        "closed",
        loan_id,
        state.borrower,
        0,
        state.total_paid,
        decimals,
        None,
        timestamp,
        block,
        {"after_default": bool(args["afterDefault"]), "tx_hash": tx_hash},
    )


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
