"""The credit score (:func:`loanservicing.ledger.credit_score.credit_score`, the registry's
published formula recomputed from the indexed record) as a table: the score, then each factor
with its points; for the borrower, what each measures and what would raise it."""

from __future__ import annotations

from loanservicing.ledger.credit import CreditRecord
from loanservicing.ledger.credit_score import FACTORS, MAX_SCORE, MIN_SCORE, credit_score
from loanservicing.portal.tables import Table

__all__ = ["SCORE_MEANING", "score_table"]

SCORE_MEANING = (
    f"A number from {MIN_SCORE} to {MAX_SCORE} that anyone can recompute from the shared credit "
    "registry by its published formula: it starts at 300, the parts below add or take away "
    "points, and it changes by itself with every report."
)


def score_table(record: CreditRecord | None, explained: bool = False) -> Table:
    """The score and its factors (``explained``: with a sentence each, and what raises it)."""
    score = credit_score(record if record is not None else CreditRecord(""))
    shown = str(score.score) if score.scored else "not scored"
    rows = [["score", shown, f"{MIN_SCORE}-{MAX_SCORE}"]]
    for f in FACTORS:
        points = score.factors[f.name]
        rows.append(
            [
                f.label,
                f"-{points}" if f.deducted and points else str(points),
                f"{'-' if f.deducted else '+'}{f.most}",
            ]
        )
    if explained:
        unscored = "No loan has been reported yet, so there is nothing to score."
        rows[0] += [SCORE_MEANING if score.scored else unscored, "Repay on time, every time."]
        for row, f in zip(rows[1:], FACTORS, strict=True):
            row += [f.meaning, f.to_raise]
    columns = ["factor", "points", "range"]
    if explained:
        columns += ["what it measures", "what would raise it"]
    return Table("score", "Credit score", columns, rows, numeric=frozenset({1, 2}))
