"""The Metro 2 file a lender furnishes to a credit bureau for one month
(``loanservicing report metro2``): a header record, one 426-character base segment per
account, and a trailer record with the counts.

**Layout.** The fixed-length 426-character records of the CDIA *Credit Reporting Resource
Guide* (CRRG, the 2020 edition's base segment, header and trailer; the positions are in
:mod:`loanservicing.monitoring.metro2_fields`). No J1/J2, K1-K4, L1 or N1 segment is written.
Fields we do not hold are blank (alphanumeric) or zero-filled (numeric), as the format
prescribes: credit limit (installment loans), compliance condition code, consumer transaction
type, consumer information indicator, address indicator, residence code, and any identity
field the borrower's vault document lacks. One record a line, ``\\n``-terminated.

**Figures at the month's end.** Every figure is the loan's as it stood at the last second
(UTC) of the month, rebuilt from the event index by the ledger twin
(:mod:`loanservicing.monitoring.loan_history`: the loan's events up to then replayed, then
:func:`loanservicing.ledger.portfolio.snapshot_at` there), with no RPC call. Amounts are in
whole currency units: the token amount divided by ``10 ** decimals``, rounded down (Metro 2
amounts have no decimals); an amount over 999,999,999 is reported as 999999999.

- *Account status* (17A): 11 current (0-29 days past due), 71 (30-59), 78 (60-89), 80
  (90-119), 82 (120-149), 83 (150-179), 84 (180+), 97 defaulted (charged off), 13 paid or
  closed. The *payment rating* (17B) is written with 13 only: 0, or L when the loan closed
  after a default.
- *Payment history profile* (18): 24 characters, the month *before* the month of the date of
  account information first (the CRRG's rule: the reported month is in the account status),
  each from the loan's state at that month's end computed by the twin: 0 current (0-29 days),
  1..6 for 30/60/90/120/150/180+ days past due, L charged off (defaulted), E zero balance and
  current (closed), B no history before the account was opened. D (no data) is not written:
  the index holds each loan's every event from its origination, so every month since opening
  has its state.
- *Special comment* (19): ``CP`` (account in forbearance, CDIA FAQ 45) when the month's end
  is inside the loan's forbearance window. A payment holiday is a deferral (CDIA FAQ 44),
  which the CRRG reports not with a special comment but with terms frequency ``D`` (deferred)
  and a scheduled monthly payment of zero while the holiday runs; so we do. (The deferral's
  first payment date belongs in a K4 segment, which this file does not carry.)
- *Current balance* (21): what the payoff is then (the ledger's ``payoff``), 0 when closed;
  *amount past due* (22): the installments, fees and penalty past due, the whole balance once
  defaulted (accelerated); *original charge-off amount* (23): the balance at default
  (``LoanDefaulted``: principal, interest, fees and penalty).
- *Dates*: opened (origination), first delinquency (the date the oldest unpaid installment
  fell due: the month's end less its days past due; at default, from ``LoanDefaulted``'s
  days past due), closed (the closing repayment, or the default for 97), last payment (the
  latest ``RepaymentApplied`` by the month's end).
- *Terms*: portfolio type I (installment), account type 01 (unsecured), terms duration the
  number of installments, frequency M, Q, T, S or Y for calendar months, W, B, M, Q, S or Y
  for periods of 7, 14, 28-31, 89-92, 180-184 or 365-366 days (another period: M, with the
  duration in months, rounded up); *scheduled monthly payment* the next installment (principal
  and interest), *actual payment* the month's repayments.

**Which accounts.** Every loan in the token opened by the month's end, except those closed
before the month began (a closed account is reported once, with 13). A loan whose borrower's
identity cannot be read through the vault (no consent to the bureau, erased, no identity
document) is left out and named with its reason; the trailer counts only what is written.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.state import LoanSnapshot, LoanState, LoanStatus
from loanservicing.monitoring.errors import BureauReportError
from loanservicing.monitoring.loan_history import LoanHistory, month_end, month_of
from loanservicing.monitoring.metro2_fields import (
    BASE_SEGMENT,
    HEADER,
    RECORD_LENGTH,
    TRAILER,
    TRAILER_STATUS_CODES,
    date_field,
    render,
    time_stamp,
)
from loanservicing.monitoring.metro2_identity import LEFT_OUT_REASONS, BorrowerIdentity
from loanservicing.monitoring.repayment_history import Repayment

__all__ = [
    "AccountMonth",
    "LeftOut",
    "Metro2File",
    "Reporter",
    "account_month",
    "account_status",
    "base_segment",
    "header_record",
    "history_code",
    "metro2_file",
    "reporting_month",
    "trailer_record",
]

HISTORY_MONTHS = 24
MAX_AMOUNT = 999_999_999
_MONTH_FREQUENCY = {1: "M", 3: "Q", 4: "T", 6: "S", 12: "Y"}
_DAY_FREQUENCY = (
    (7, 7, "W"),
    (14, 14, "B"),
    (28, 31, "M"),
    (89, 92, "Q"),
    (180, 184, "S"),
    (365, 366, "Y"),
)


@dataclass(frozen=True)
class Reporter:
    """The furnisher: its identification number (assigned by the bureau) and name."""

    identification_number: str
    name: str
    address: str = ""
    telephone: str = ""


@dataclass(frozen=True)
class AccountMonth:
    """One loan's base-segment figures at a month's end; amounts in whole currency units."""

    loan_id: int
    borrower: str
    as_of: int
    """The month's last second (UTC): the date of account information."""
    days_past_due: int
    account_status: str
    payment_rating: str
    payment_history_profile: str
    special_comment: str
    terms_duration: int
    terms_frequency: str
    highest_credit: int
    scheduled_monthly_payment: int
    actual_payment: int
    current_balance: int
    amount_past_due: int
    original_charge_off_amount: int
    date_opened: dt.date
    date_of_first_delinquency: dt.date | None
    date_closed: dt.date | None
    date_of_last_payment: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        def iso(day: dt.date | None) -> str | None:
            return None if day is None else day.isoformat()

        return {
            "loan_id": self.loan_id,
            "borrower": self.borrower,
            "days_past_due": self.days_past_due,
            "account_status": self.account_status,
            "payment_rating": self.payment_rating,
            "payment_history_profile": self.payment_history_profile,
            "special_comment": self.special_comment,
            "terms_duration": self.terms_duration,
            "terms_frequency": self.terms_frequency,
            "highest_credit": self.highest_credit,
            "scheduled_monthly_payment": self.scheduled_monthly_payment,
            "actual_payment": self.actual_payment,
            "current_balance": self.current_balance,
            "amount_past_due": self.amount_past_due,
            "original_charge_off_amount": self.original_charge_off_amount,
            "date_opened": iso(self.date_opened),
            "date_of_first_delinquency": iso(self.date_of_first_delinquency),
            "date_closed": iso(self.date_closed),
            "date_of_last_payment": iso(self.date_of_last_payment),
        }


@dataclass(frozen=True)
class LeftOut:
    loan_id: int
    borrower: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "loan_id": self.loan_id,
            "borrower": self.borrower,
            "reason": self.reason,
            "why": LEFT_OUT_REASONS.get(self.reason, self.reason),
        }


@dataclass
class Metro2File:
    """The records of one month's file and what they hold."""

    year: int
    month: int
    records: list[str]
    accounts: list[AccountMonth]
    left_out: list[LeftOut] = field(default_factory=list)

    def text(self) -> str:
        return "".join(record + "\n" for record in self.records)

    def summary(self) -> dict[str, Any]:
        by_reason = Counter(item.reason for item in self.left_out)
        return {
            "month": f"{self.year:04d}-{self.month:02d}",
            "date_of_account_information": month_end_date(self.year, self.month).isoformat(),
            "records": len(self.records),
            "accounts_written": len(self.accounts),
            "accounts_left_out": len(self.left_out),
            "left_out_by_reason": dict(sorted(by_reason.items())),
            "borrowers_left_out": len({item.borrower for item in self.left_out}),
            "by_status": dict(sorted(Counter(a.account_status for a in self.accounts).items())),
            "current_balance": sum(a.current_balance for a in self.accounts),
            "amount_past_due": sum(a.amount_past_due for a in self.accounts),
            "accounts": [a.as_dict() for a in self.accounts],
            "left_out": [item.as_dict() for item in self.left_out],
        }


# --------------------------------------------------------------------------- months


def reporting_month(text: str, chain_now: int) -> tuple[int, int]:
    """``YYYY-MM`` as (year, month), refused unless the month has ended on chain."""
    if len(text.strip()) != 7:
        raise BureauReportError(f"The month {text!r} is not a month such as 2027-03.")
    try:
        year, month = month_of(text)
    except ValueError as exc:
        raise BureauReportError(str(exc)) from None
    if month_end(year, month) > chain_now:
        now = dt.datetime.fromtimestamp(chain_now, dt.UTC).date().isoformat()
        raise BureauReportError(
            f"The month {year:04d}-{month:02d} has not ended on chain yet (chain date {now}): "
            "a month is furnished once it is over."
        )
    return year, month


def month_end_date(year: int, month: int) -> dt.date:
    return dt.datetime.fromtimestamp(month_end(year, month), dt.UTC).date()


def _previous_months(year: int, month: int, count: int) -> list[tuple[int, int]]:
    """The ``count`` months before (year, month), most recent first."""
    months = []
    for _ in range(count):
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
        months.append((year, month))
    return months


# --------------------------------------------------------------------------- codes


def account_status(state: LoanState, days_past_due: int) -> str:
    """The Metro 2 account status of a loan in ``state`` that many days past due."""
    if state.status is LoanStatus.CLOSED:
        return "13"
    if state.status is LoanStatus.DEFAULTED:
        return "97"
    for floor, code in ((180, "84"), (150, "83"), (120, "82"), (90, "80"), (60, "78"), (30, "71")):
        if days_past_due >= floor:
            return code
    return "11"


def history_code(state: LoanState | None, days_past_due: int) -> str:
    """One month of the payment history profile: the loan's ``state`` at that month's end
    (None: not opened yet) that many days past due."""
    if state is None:
        return "B"
    if state.status is LoanStatus.DEFAULTED or (
        state.status is LoanStatus.CLOSED and state.closed_after_default
    ):
        return "L"
    if state.status is LoanStatus.CLOSED:
        return "E"
    return str(min(days_past_due // 30, 6))


def _terms(state: LoanState) -> tuple[int, str]:
    if state.months:
        frequency = _MONTH_FREQUENCY.get(state.months)
        if frequency is not None:
            return state.installments, frequency
        return state.installments * state.months, "M"
    days = state.period // cal.DAY
    for low, high, frequency in _DAY_FREQUENCY:
        if low <= days <= high:
            return state.installments, frequency
    return -(-state.installments * days // 30), "M"


def _units(amount: int, decimals: int) -> int:
    unit: int = 10**decimals
    return min(amount // unit, MAX_AMOUNT)


def _date(t: int, offset_seconds: int = 0) -> dt.date:
    return dt.date(*cal.civil_from_days(cal.local_day(t, offset_seconds)))


def _in_forbearance(state: LoanState, t: int) -> bool:
    today = cal.local_day(t, state.offset_seconds)
    return state.pause_to != 0 and state.pause_from <= today <= state.pause_to


def _in_holiday(state: LoanState, t: int) -> bool:
    return state.advance_pending and state.holiday_periods > 0 and t < state.segment_start


def _installment_amount(state: LoanState, number: int | None) -> int:
    """Principal and interest that installment ``number`` of the segment in force schedules."""
    if number is None or number <= state.base_index:
        return 0
    curve = state.curve()
    j = number - state.base_index
    cp, ci = curve.cumulative(j)
    pp, pi = curve.cumulative(j - 1)
    return cp + ci - pp - pi


def _event_time(history: LoanHistory, name: str, by: int) -> tuple[int, dict[str, Any]] | None:
    """The latest ``name`` event of the loan at or before ``by``: its time and args."""
    found = None
    for transaction in history.transactions:
        for event in transaction:
            if event.name == name and event.timestamp <= by:
                found = (event.timestamp, dict(event.args))
    return found


# --------------------------------------------------------------------------- one account


def account_month(
    history: LoanHistory,
    repayments: Sequence[Repayment],
    year: int,
    month: int,
    decimals: int,
) -> AccountMonth | None:
    """The loan's figures at the end of ``month`` of ``year``; None when it is not reported
    that month (not opened yet, or closed before the month began)."""
    as_of = month_end(year, month)
    previous = _previous_months(year, month, HISTORY_MONTHS)
    times = [month_end(y, m) for y, m in reversed(previous)] + [as_of]
    states = history.states_at(times)
    state = states[-1]
    if state is None:
        return None
    before = states[-2]
    if before is not None and before.status is LoanStatus.CLOSED:
        return None
    snapshots: list[LoanSnapshot | None] = [
        None if s is None else snapshot_at(s, t, decimals)
        for s, t in zip(states, times, strict=True)
    ]
    now = snapshots[-1]
    assert now is not None
    profile = "".join(
        history_code(s, 0 if snap is None else snap.days_past_due)
        for s, snap in zip(reversed(states[:-1]), reversed(snapshots[:-1]), strict=True)
    )
    dpd = now.days_past_due if state.status is LoanStatus.ACTIVE else 0
    status = account_status(state, dpd)
    offset = state.offset_seconds
    duration, frequency = _terms(state)
    scheduled = 0
    if state.status is LoanStatus.ACTIVE:
        scheduled = _installment_amount(state, now.next_installment)
        if _in_holiday(state, as_of):
            frequency, scheduled = "D", 0
    month_start = month_end(*previous[0]) + 1
    paid_in_month = sum(r.amount for r in repayments if month_start <= r.timestamp <= as_of)
    paid = [r for r in repayments if r.timestamp <= as_of]
    defaulted = _event_time(history, "LoanDefaulted", as_of)
    closed = _event_time(history, "LoanClosed", as_of)
    charge_off = 0
    first_delinquency: dt.date | None = None
    date_closed: dt.date | None = None
    if defaulted is not None:
        at, args = defaulted
        charge_off = sum(
            int(args[k])
            for k in ("principalOutstanding", "interestOwed", "feesOwed", "penaltyOwed")
        )
        if state.status is LoanStatus.DEFAULTED:
            first_delinquency = _date(at, offset) - dt.timedelta(days=int(args["daysPastDue"]))
            date_closed = _date(at, offset)
    if state.status is LoanStatus.ACTIVE and dpd >= 30:
        first_delinquency = _date(as_of, offset) - dt.timedelta(days=dpd)
    if state.status is LoanStatus.CLOSED and closed is not None:
        date_closed = _date(closed[0], offset)
    balance = 0 if state.status is LoanStatus.CLOSED else now.payoff
    past_due = balance if state.status is LoanStatus.DEFAULTED else now.past_due
    rating = ""
    if status == "13":
        rating = "L" if state.closed_after_default else "0"
    return AccountMonth(
        loan_id=state.loan_id,
        borrower=state.borrower,
        as_of=as_of,
        days_past_due=dpd,
        account_status=status,
        payment_rating=rating,
        payment_history_profile=profile,
        special_comment="CP"
        if state.status is LoanStatus.ACTIVE and _in_forbearance(state, as_of)
        else "",
        terms_duration=duration,
        terms_frequency=frequency,
        highest_credit=_units(state.principal, decimals),
        scheduled_monthly_payment=_units(scheduled, decimals),
        actual_payment=_units(paid_in_month, decimals),
        current_balance=_units(balance, decimals),
        amount_past_due=_units(past_due, decimals),
        original_charge_off_amount=_units(charge_off, decimals)
        if state.status is LoanStatus.DEFAULTED or state.closed_after_default
        else 0,
        date_opened=_date(history.originated_at, offset),
        date_of_first_delinquency=first_delinquency,
        date_closed=date_closed,
        date_of_last_payment=_date(paid[-1].timestamp, offset) if paid else None,
    )


# --------------------------------------------------------------------------- records


def base_segment(account: AccountMonth, identity: BorrowerIdentity, reporter: Reporter) -> str:
    """The 426-character base segment of ``account`` for the borrower ``identity``."""
    as_of = dt.datetime.fromtimestamp(account.as_of, dt.UTC)
    values: dict[str, str | int] = {
        "record_descriptor_word": RECORD_LENGTH,
        "processing_indicator": 1,
        "time_stamp": time_stamp(as_of),
        "identification_number": reporter.identification_number,
        "cycle_identifier": f"{as_of.day:02d}",
        "consumer_account_number": str(account.loan_id),
        "portfolio_type": "I",
        "account_type": "01",
        "date_opened": date_field(account.date_opened),
        "highest_credit": account.highest_credit,
        "terms_duration": f"{min(account.terms_duration, 999):03d}",
        "terms_frequency": account.terms_frequency,
        "scheduled_monthly_payment": account.scheduled_monthly_payment,
        "actual_payment": account.actual_payment,
        "account_status": account.account_status,
        "payment_rating": account.payment_rating,
        "payment_history_profile": account.payment_history_profile,
        "special_comment": account.special_comment,
        "current_balance": account.current_balance,
        "amount_past_due": account.amount_past_due,
        "original_charge_off_amount": account.original_charge_off_amount,
        "date_of_account_information": date_field(as_of.date()),
        "date_of_first_delinquency": date_field(account.date_of_first_delinquency),
        "date_closed": date_field(account.date_closed),
        "date_of_last_payment": date_field(account.date_of_last_payment),
        "interest_type_indicator": "F",
        "surname": identity.surname,
        "first_name": identity.first_name,
        "middle_name": identity.middle_name,
        "generation_code": identity.generation_code,
        "social_security_number": identity.ssn,
        "date_of_birth": date_field(identity.date_of_birth),
        "telephone_number": identity.telephone,
        "ecoa_code": "1",
        "country_code": identity.country_code,
        "first_line_of_address": identity.address_line_1,
        "second_line_of_address": identity.address_line_2,
        "city": identity.city,
        "state": identity.state,
        "postal_code": identity.postal_code,
    }
    return render(BASE_SEGMENT, values)


def header_record(reporter: Reporter, year: int, month: int, created: dt.date) -> str:
    """The header record of the file for ``month`` of ``year``, created on ``created``."""
    activity = month_end_date(year, month)
    return render(
        HEADER,
        {
            "record_descriptor_word": RECORD_LENGTH,
            "record_identifier": "HEADER",
            "cycle_identifier": f"{activity.day:02d}",
            "activity_date": date_field(activity),
            "date_created": date_field(created),
            "program_date": date_field(activity),
            "program_revision_date": date_field(activity),
            "reporter_name": reporter.name,
            "reporter_address": reporter.address,
            "reporter_telephone_number": reporter.telephone,
            "software_vendor_name": "LOANSERVICING",
            "software_version_number": "1",
        },
    )


def trailer_record(accounts: Sequence[AccountMonth], identities: Sequence[BorrowerIdentity]) -> str:
    """The trailer of a file holding one base segment per ``accounts`` (with ``identities``,
    in the same order): the base records, by account status, SSNs, dates of birth and
    telephone numbers reported."""
    statuses = Counter(a.account_status for a in accounts)
    ssns = sum(1 for i in identities if i.ssn)
    births = sum(1 for i in identities if i.date_of_birth is not None)
    phones = sum(1 for i in identities if i.telephone)
    values: dict[str, str | int] = {
        "record_descriptor_word": RECORD_LENGTH,
        "record_identifier": "TRAILER",
        "total_base_records": len(accounts),
        "total_ssn_all_segments": ssns,
        "total_ssn_base_segments": ssns,
        "total_dob_all_segments": births,
        "total_dob_base_segments": births,
        "total_telephone_all_segments": phones,
    }
    for code in TRAILER_STATUS_CODES:
        values[f"total_status_code_{code.lower()}"] = statuses.get(code, 0)
    return render(TRAILER, values)


# --------------------------------------------------------------------------- the file


def metro2_file(
    histories: Mapping[int, LoanHistory],
    repayments: Mapping[int, Sequence[Repayment]],
    identities: Mapping[str, BorrowerIdentity | str],
    year: int,
    month: int,
    decimals: int,
    reporter: Reporter,
    created: dt.date,
) -> Metro2File:
    """The file for ``month`` of ``year``: one base segment per loan reported that month
    whose borrower's identity is in ``identities`` (else the reason it is not: the loan is
    left out); loans by id."""
    accounts: list[AccountMonth] = []
    written: list[BorrowerIdentity] = []
    left_out: list[LeftOut] = []
    for loan_id in sorted(histories):
        history = histories[loan_id]
        account = account_month(history, repayments.get(loan_id, ()), year, month, decimals)
        if account is None:
            continue
        identity = identities.get(account.borrower, "no-identity")
        if isinstance(identity, str):
            left_out.append(LeftOut(loan_id, account.borrower, identity))
            continue
        accounts.append(account)
        written.append(identity)
    records = [header_record(reporter, year, month, created)]
    records += [base_segment(a, i, reporter) for a, i in zip(accounts, written, strict=True)]
    records.append(trailer_record(accounts, written))
    return Metro2File(year, month, records, accounts, left_out)
