"""One loan's tables, from the index at its chain time: its terms and standing, its schedule
with the paid and unpaid part of each installment, its repayments with their split and
transaction, the notices raised about it, and its borrower's credit record."""

from __future__ import annotations

from collections.abc import Sequence

from loanservicing.amounts import iso_date, money, rate
from loanservicing.ledger.calendar import Frequency
from loanservicing.ledger.credit import CREDIT_DECIMALS, CreditRecord
from loanservicing.ledger.delinquency import BUCKET_LABELS
from loanservicing.ledger.schedule import DAY
from loanservicing.ledger.state import LoanSnapshot, LoanState
from loanservicing.monitoring.notices import Notice
from loanservicing.monitoring.repayment_history import Repayment
from loanservicing.portal.schedule import ScheduledInstallment
from loanservicing.portal.tables import Table

__all__ = [
    "credit_table",
    "day",
    "next_payment_text",
    "notices_table",
    "repayments_table",
    "schedule_table",
    "terms_table",
]


def day(timestamp: int | None) -> str:
    """A chain time as its UTC date (blank for None)."""
    return iso_date(timestamp)[:10] if timestamp else ""


def next_payment_text(s: LoanSnapshot, symbol: str) -> str:
    """``887.72 tUSDC by 2027-01-31``; ``nothing due`` once nothing is left to pay."""
    if not s.next_due_amount:
        return "nothing due"
    text = money(s.next_due_amount, s.decimals, symbol)
    return f"{text} by {day(s.next_due_timestamp)}" if s.next_due_timestamp else text


def terms_table(s: LoanSnapshot, state: LoanState, symbol: str) -> list[tuple[str, str]]:
    """The terms and standing of a loan, label by label."""
    d = s.decimals
    frequency = Frequency(days=state.period // DAY, months=state.months).label
    return [
        ("status", s.status),
        ("borrower", s.borrower),
        ("lender", s.lender),
        ("schedule", f"{s.kind.label}, {s.installments_total} installments, {frequency}"),
        ("principal", money(s.principal, d, symbol)),
        ("outstanding principal", money(s.principal_outstanding, d, symbol)),
        ("rate", f"{rate(s.apr_bps)} a year ({state.day_count.label})"),
        ("late fee", rate(s.late_fee_bps) + " of the installment"),
        ("penalty rate", f"{rate(s.penalty_apr_bps)} a year"),
        ("grace period", f"{s.grace_seconds // DAY} days"),
        ("default after", f"{s.default_after_days} days past due"),
        ("days past due", str(s.days_past_due)),
        ("bucket", BUCKET_LABELS[s.delinquency_bucket]),
        ("past due", money(s.past_due, d, symbol)),
        ("next payment", next_payment_text(s, symbol)),
        ("payoff", money(s.payoff, d, symbol)),
    ]


def _m(units: int | None, decimals: int) -> str:
    return money(units, decimals)


def schedule_table(rows: Sequence[ScheduledInstallment], decimals: int, symbol: str) -> Table:
    return Table(
        "schedule",
        "Schedule",
        [
            "#",
            "due",
            f"principal {symbol}",
            f"interest {symbol}",
            f"total {symbol}",
            f"paid {symbol}",
            f"unpaid {symbol}",
            "status",
        ],
        [
            [
                str(r.number),
                r.due_date,
                _m(r.principal, decimals),
                _m(r.interest, decimals),
                _m(r.total, decimals),
                _m(r.paid, decimals),
                _m(r.unpaid, decimals),
                r.status,
            ]
            for r in rows
        ],
        numeric=frozenset({0, 2, 3, 4, 5, 6}),
    )


def repayments_table(rows: Sequence[Repayment], decimals: int, symbol: str) -> Table:
    return Table(
        "repayments",
        "Repayments",
        [
            "date",
            f"amount {symbol}",
            f"fees {symbol}",
            f"penalty {symbol}",
            f"interest {symbol}",
            f"principal {symbol}",
            f"outstanding after {symbol}",
            "transaction",
        ],
        [
            [
                day(r.timestamp),
                _m(r.amount, decimals),
                _m(r.fees, decimals),
                _m(r.penalty, decimals),
                _m(r.interest, decimals),
                _m(r.principal, decimals),
                _m(r.principal_outstanding, decimals),
                r.tx_hash,
            ]
            for r in rows
        ],
        numeric=frozenset({1, 2, 3, 4, 5, 6}),
    )


def notices_table(rows: Sequence[Notice], symbol: str) -> Table:
    return Table(
        "notices",
        "Notices",
        ["raised", "notice", "days past due", f"amount {symbol}", "due"],
        [
            [
                day(n.chain_timestamp),
                n.kind,
                str(n.days_past_due),
                _m(n.amount, n.decimals),
                day(n.due_timestamp),
            ]
            for n in rows
        ],
        numeric=frozenset({2, 3}),
    )


CREDIT_FIGURES = (
    ("paid_on_time", "paid on time", "Installments paid by their due date or within grace."),
    ("paid_late", "paid late", "Installments paid after their grace period ended."),
    ("missed", "missed", "Installments still unpaid when their grace period ended."),
    (
        "current_days_past_due",
        "days past due now",
        "How many days the most overdue open loan is behind, as the registry was told.",
    ),
    ("max_days_past_due", "most days past due", "The longest any loan has ever been behind."),
    ("defaults", "defaults", "Loans the lender declared in default."),
    ("forbearances", "forbearances", "Times a lender paused the lateness clock for you."),
    ("loans_opened", "loans opened", "Loans taken out, on every ledger that reports."),
    ("loans_closed", "loans closed", "Loans repaid in full or otherwise closed."),
    ("total_repaid", "total repaid", "Everything repaid on all loans, in the token's value."),
)


def credit_table(record: CreditRecord | None, symbol: str, explained: bool = False) -> Table:
    """The borrower's credit record in the shared registry (every reporting ledger's
    total); with ``explained``, a plain-language sentence per figure."""
    rows: list[list[str]] = []
    for key, label, meaning in CREDIT_FIGURES:
        value = 0 if record is None else int(getattr(record, key))
        text = money(value, CREDIT_DECIMALS, symbol) if key == "total_repaid" else str(value)
        rows.append([label, text, meaning] if explained else [label, text])
    columns = ["figure", "value", "what it means"] if explained else ["figure", "value"]
    return Table("credit", "Credit record", columns, rows, numeric=frozenset({1}))
