"""The registry's credit score recomputed in Python (``CreditScore.sol``): 300 to 850 from a
credit record's figures by the published formula, with its parts, what each means and what
would raise it. Anyone can recompute it from the chain (the registry's ``creditScore`` view)
or from the event index; the tests compare both with the contract.

score = 300 + on time + history + closed + standing - worst - misses - defaults, kept within
300..850; 0 when no loan was ever reported (no history to score). Integer arithmetic, rounding
down, as the contract does.
"""

from __future__ import annotations

from dataclasses import dataclass

from loanservicing.ledger.credit import CreditRecord

__all__ = ["FACTORS", "MAX_SCORE", "MIN_SCORE", "CreditScore", "Factor", "credit_score"]

MIN_SCORE = 300
MAX_SCORE = 850


@dataclass(frozen=True)
class Factor:
    """One part of the score: its name in the contract's ``ScoreFactors``, the most it adds
    (or, when ``deducted``, takes away), what it measures and what would raise it."""

    name: str
    label: str
    most: int
    deducted: bool
    meaning: str
    to_raise: str


FACTORS = (
    Factor("onTime", "paid on time", 250, False,
           "The share of installments reported that were paid by their due date or within "
           "grace, of all those paid or missed.",
           "Pay each installment by its due date (or within its grace period)."),
    Factor("history", "length of history", 100, False,
           "How many installments the registry has on record: 48 or more count in full.",
           "Keep repaying: every installment reported lengthens the history."),
    Factor("closed", "loans closed", 100, False,
           "Loans repaid in full or otherwise closed: 20 points each, up to 5 loans.",
           "Repay a loan to the end."),
    Factor("standing", "days past due now", 100, False,
           "Whether your loans are current today: 100 when none is past due, 60 up to 30 "
           "days, 30 up to 60, 10 up to 90, nothing beyond.",
           "Bring every loan up to date; the points come back the day it is current."),
    Factor("worst", "worst days past due", 50, True,
           "The most days any of your loans was ever past due takes up to 50 points "
           "(all of them at 180 days).",
           "It does not fade; avoiding new lateness keeps it from growing."),
    Factor("misses", "missed installments", 50, True,
           "5 points for each installment still unpaid when its grace ended, up to 10.",
           "Pay within grace: an installment paid in grace is never a miss."),
    Factor("defaults", "defaults", 300, True,
           "150 points for each loan declared in default, up to 2.",
           "A default stays on the record; repaying other loans on time raises the rest."),
)  # fmt: skip


@dataclass(frozen=True)
class CreditScore:
    """A score and its parts (points by :class:`Factor` name, as the contract returns)."""

    score: int
    factors: dict[str, int]

    @property
    def scored(self) -> bool:
        """False when the record holds no loan, so there is nothing to score."""
        return self.score != 0

    def to_json(self) -> dict[str, object]:
        return {"score": self.score, "factors": dict(self.factors)}


def _standing(days_past_due: int) -> int:
    if days_past_due == 0:
        return 100
    if days_past_due <= 30:
        return 60
    if days_past_due <= 60:
        return 30
    if days_past_due <= 90:
        return 10
    return 0


def credit_score(r: CreditRecord) -> CreditScore:
    """The score of record ``r`` exactly as the registry's ``creditScore`` computes it."""
    if r.loans_opened == 0:
        return CreditScore(0, dict.fromkeys((f.name for f in FACTORS), 0))
    reported = r.paid_on_time + r.paid_late + r.missed
    parts = {
        "onTime": 250 * r.paid_on_time // reported if reported else 0,
        "history": 100 if reported >= 48 else 100 * reported // 48,
        "closed": 100 if r.loans_closed >= 5 else 20 * r.loans_closed,
        "standing": _standing(r.current_days_past_due),
        "worst": 50 if r.max_days_past_due >= 180 else 50 * r.max_days_past_due // 180,
        "misses": 50 if r.missed >= 10 else 5 * r.missed,
        "defaults": 300 if r.defaults >= 2 else 150 * r.defaults,
    }
    plus = MIN_SCORE + sum(parts[f.name] for f in FACTORS if not f.deducted)
    minus = sum(parts[f.name] for f in FACTORS if f.deducted)
    score = min(max(plus - minus, MIN_SCORE), MAX_SCORE)
    return CreditScore(score, parts)
