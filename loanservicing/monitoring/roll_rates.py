"""Roll rates and vintage curves from the event index, month end by month end (the loans as
:mod:`loanservicing.monitoring.loan_history` rebuilds them), for ``report roll-rates``,
``report vintages`` and the portal alike.

- **Roll rate** from bucket A to bucket B between two month ends: the outstanding principal
  at the first month end of the loans in A then and in B at the next, over the outstanding
  principal in A at the first. Buckets are the aging table's (current, 1-30, 31-60, 61-90,
  90+, defaulted) plus ``closed`` as a destination (repaid or otherwise closed by the next
  month end). Each row of a matrix adds up to 1 (when the bucket held any principal).
- **Vintage curve** of an origination month: at each month on book (month end 1 is the
  origination month's), the cumulative share of the cohort's originated principal in loans
  that were more than 30 days past due at some month end by then (30+), and in loans
  defaulted by then.

Shares are exact ``Decimal`` quotients rounded to six places; amounts are token units.
Amounts of different tokens are never added: both reports take one token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from loanservicing.ledger.delinquency import BUCKET_LABELS
from loanservicing.ledger.state import LoanSnapshot
from loanservicing.monitoring.loan_history import LoanHistory, month_ends, snapshots_at

__all__ = [
    "FROM_BUCKETS",
    "TO_BUCKETS",
    "RollMatrix",
    "VintageCurve",
    "last_complete_month",
    "roll_rate_window",
    "roll_rates",
    "vintages",
]

FROM_BUCKETS = (*BUCKET_LABELS, "defaulted")
TO_BUCKETS = (*FROM_BUCKETS, "closed")
_PLACES = Decimal("0.000001")


def _bucket(s: LoanSnapshot) -> str:
    if s.status == "defaulted":
        return "defaulted"
    if s.status == "closed":
        return "closed"
    return BUCKET_LABELS[s.delinquency_bucket]


def _share(part: int, whole: int) -> Decimal:
    return (Decimal(part) / whole).quantize(_PLACES) if whole else Decimal(0)


def _month(t: int) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m")


@dataclass(frozen=True)
class RollMatrix:
    """The principal moving between buckets from month end ``start`` to month end ``end``."""

    start: int
    end: int
    principal: dict[str, dict[str, int]]
    """principal[from][to]: outstanding principal at ``start`` that moved so."""

    def share(self, a: str, b: str) -> Decimal:
        return _share(self.principal[a][b], sum(self.principal[a].values()))

    def to_json(self) -> dict[str, object]:
        return {
            "from_month": _month(self.start),
            "to_month": _month(self.end),
            "principal": self.principal,
            "shares": {a: {b: str(self.share(a, b)) for b in TO_BUCKETS} for a in FROM_BUCKETS},
        }


def roll_rates(
    histories: Sequence[LoanHistory],
    first: tuple[int, int],
    last: tuple[int, int],
    token: str,
    decimals: dict[str, int],
) -> list[RollMatrix]:
    """One matrix for each pair of consecutive month ends from ``first`` to ``last`` (year,
    month), over the loans in ``token``."""
    ends = month_ends(first, last)
    mine = [h for h in histories if h.transactions and _token(h) == token]
    books = snapshots_at(mine, ends, decimals)
    matrices = []
    for (t0, before), (t1, after) in zip(
        zip(ends, books, strict=True), zip(ends[1:], books[1:], strict=True), strict=False
    ):
        principal = {a: dict.fromkeys(TO_BUCKETS, 0) for a in FROM_BUCKETS}
        for loan_id, s in before.items():
            a = _bucket(s)
            if a == "closed":
                continue
            principal[a][_bucket(after[loan_id])] += s.principal_outstanding
        matrices.append(RollMatrix(t0, t1, principal))
    return matrices


def _token(h: LoanHistory) -> str:
    return str(h.transactions[0][0].args["terms"]["token"])


@dataclass(frozen=True)
class VintageCurve:
    """One origination month's cohort: its loans and principal, and by month on book the
    principal ever 30+ days past due and defaulted by then (cumulative)."""

    month: str
    loans: int
    principal: int
    ever_30_plus: list[int]
    defaulted: list[int]

    def ever_30_plus_rates(self) -> list[Decimal]:
        return [_share(p, self.principal) for p in self.ever_30_plus]

    def default_rates(self) -> list[Decimal]:
        return [_share(p, self.principal) for p in self.defaulted]

    def to_json(self) -> dict[str, object]:
        return {
            "month": self.month,
            "loans": self.loans,
            "principal": self.principal,
            "months_on_book": list(range(1, len(self.ever_30_plus) + 1)),
            "ever_30_plus": self.ever_30_plus,
            "defaulted": self.defaulted,
            "ever_30_plus_rate": [str(r) for r in self.ever_30_plus_rates()],
            "default_rate": [str(r) for r in self.default_rates()],
        }


def vintages(
    histories: Sequence[LoanHistory], until: int, token: str, decimals: dict[str, int]
) -> list[VintageCurve]:
    """The vintage curve of every origination month of the loans in ``token``, each to the
    last month end at or before ``until``."""
    mine = [h for h in histories if h.transactions and _token(h) == token]
    if not mine:
        return []
    start = min(h.originated_at for h in mine)
    first = dt.datetime.fromtimestamp(start, dt.UTC)
    last = dt.datetime.fromtimestamp(until, dt.UTC)
    ends = [t for t in month_ends((first.year, first.month), (last.year, last.month)) if t <= until]
    books = snapshots_at(mine, ends, decimals)
    cohorts: dict[str, list[LoanHistory]] = {}
    for h in sorted(mine, key=lambda h: h.originated_at):
        cohorts.setdefault(_month(h.originated_at), []).append(h)
    curves = []
    for month, loans in cohorts.items():
        principal = {h.loan_id: int(h.transactions[0][0].args["terms"]["principal"]) for h in loans}
        ever: set[int] = set()
        gone: set[int] = set()
        ever_30, defaulted = [], []
        for t, book in zip(ends, books, strict=True):
            if _month(t) < month:
                continue
            for h in loans:
                s = book.get(h.loan_id)
                if s is None:
                    continue
                if s.status == "defaulted":
                    gone.add(h.loan_id)
                    ever.add(h.loan_id)
                elif s.days_past_due > 30:
                    ever.add(h.loan_id)
            ever_30.append(sum(principal[i] for i in ever))
            defaulted.append(sum(principal[i] for i in gone))
        curves.append(VintageCurve(month, len(loans), sum(principal.values()), ever_30, defaulted))
    return curves


def last_complete_month(t: int) -> tuple[int, int]:
    """The last calendar month (year, month) that has ended at chain time ``t`` (UTC)."""
    now = dt.datetime.fromtimestamp(t, dt.UTC)
    return (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)


def roll_rate_window(
    histories: Sequence[LoanHistory], until: int, token: str, months: int = 12
) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The (first, last) month ends of the latest ``months`` rolls of the loans in ``token``
    at chain time ``until``: from the first loan's origination month (or ``months`` months
    before the last complete month, if later) to the last complete month; None while fewer
    than two month ends have passed since the first origination."""
    mine = [h for h in histories if h.transactions and _token(h) == token]
    if not mine:
        return None
    start = dt.datetime.fromtimestamp(min(h.originated_at for h in mine), dt.UTC)
    last = last_complete_month(until)
    back = last[0] * 12 + last[1] - 1 - months
    first = max((start.year, start.month), (back // 12, back % 12 + 1))
    return (first, last) if first < last else None
