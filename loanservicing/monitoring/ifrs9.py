"""IFRS 9 staging and expected credit loss from the event index, as of a date
(``report ifrs9``; the loans as :mod:`loanservicing.monitoring.loan_history` rebuilds them).

Stages, by the standard's rebuttable presumptions and the usual forbearance rule:

- **stage 3** (credit-impaired): more than 90 days past due, or defaulted;
- **stage 2** (significant increase in credit risk): more than 30 days past due, or
  restructured, granted a payment holiday or in a forbearance window within the probation
  period (24 months, as the EBA's forborne-exposure probation) before the date;
- **stage 1**: every other active loan. Closed loans carry no exposure and are left out.

Exposure at default (EAD) is what the borrower owes at the date: the payoff amount (principal
outstanding, interest to the day, fees and penalty). ECL = PD x LGD x EAD, with a PD per stage
and one LGD, configurable; ECL is rounded half up to the token's unit. PD and LGD are
``Decimal`` shares between 0 and 1.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from loanservicing.ledger import calendar as cal
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.state import LoanSnapshot, LoanState
from loanservicing.monitoring.loan_history import LoanHistory

__all__ = [
    "DEFAULT_LGD",
    "DEFAULT_PD",
    "PROBATION_SECONDS",
    "Ifrs9Report",
    "StagedLoan",
    "ifrs9_report",
    "stage_of",
]

DEFAULT_PD: Mapping[int, Decimal] = {1: Decimal("0.01"), 2: Decimal("0.15"), 3: Decimal(1)}
"""Twelve-month PD for stage 1, lifetime PD for stage 2, and 1 for credit-impaired loans."""
DEFAULT_LGD = Decimal("0.45")
"""The Basel foundation-IRB LGD for senior unsecured exposures."""
PROBATION_SECONDS = 730 * cal.DAY


def stage_of(s: LoanSnapshot, state: LoanState, history: LoanHistory, t: int) -> tuple[int, str]:
    """The loan's stage at ``t`` and why, in a few words."""
    if s.status == "defaulted":
        return 3, "defaulted"
    if s.days_past_due > 90:
        return 3, f"{s.days_past_due} days past due"
    if s.days_past_due > 30:
        return 2, f"{s.days_past_due} days past due"
    since = t - PROBATION_SECONDS
    if history.relief_by("restructured", t, since):
        return 2, "restructured"
    if history.relief_by("holiday", t, since):
        return 2, "payment holiday"
    if state.pause_to and state.pause_to >= cal.local_day(since, state.offset_seconds):
        return 2, "forbearance"
    return 1, "performing"


@dataclass(frozen=True)
class StagedLoan:
    loan_id: int
    borrower: str
    stage: int
    reason: str
    days_past_due: int
    ead: int
    pd: Decimal
    ecl: int


@dataclass(frozen=True)
class Ifrs9Report:
    """The staged book in one token (``decimals``) at ``as_of``, and totals per stage."""

    as_of: int
    token: str
    decimals: int
    pd: Mapping[int, Decimal]
    lgd: Decimal
    loans: tuple[StagedLoan, ...]

    def totals(self) -> dict[int, dict[str, int]]:
        out = {stage: {"loans": 0, "ead": 0, "ecl": 0} for stage in (1, 2, 3)}
        for loan in self.loans:
            row = out[loan.stage]
            row["loans"] += 1
            row["ead"] += loan.ead
            row["ecl"] += loan.ecl
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "as_of_timestamp": self.as_of,
            "token": self.token,
            "decimals": self.decimals,
            "pd": {str(k): str(v) for k, v in self.pd.items()},
            "lgd": str(self.lgd),
            "stages": {str(k): v for k, v in self.totals().items()},
            "ead": sum(loan.ead for loan in self.loans),
            "ecl": sum(loan.ecl for loan in self.loans),
            "loans": [
                {
                    "loan_id": loan.loan_id,
                    "borrower": loan.borrower,
                    "stage": loan.stage,
                    "reason": loan.reason,
                    "days_past_due": loan.days_past_due,
                    "ead": loan.ead,
                    "pd": str(loan.pd),
                    "ecl": loan.ecl,
                }
                for loan in self.loans
            ],
        }


def ifrs9_report(
    histories: Sequence[LoanHistory],
    as_of: int,
    token: str,
    decimals: int,
    pd: Mapping[int, Decimal] = DEFAULT_PD,
    lgd: Decimal = DEFAULT_LGD,
) -> Ifrs9Report:
    """Stage every loan in ``token`` open at ``as_of`` and price its expected credit loss."""
    staged = []
    for h in sorted(histories, key=lambda h: h.loan_id):
        if not h.transactions or str(h.transactions[0][0].args["terms"]["token"]) != token:
            continue
        (state,) = h.states_at([as_of])
        if state is None:
            continue
        s = snapshot_at(state, as_of, decimals)
        if s.status == "closed":
            continue
        stage, reason = stage_of(s, state, h, as_of)
        ead = s.payoff
        ecl = int((pd[stage] * lgd * ead).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        staged.append(
            StagedLoan(h.loan_id, s.borrower, stage, reason, s.days_past_due, ead, pd[stage], ecl)
        )
    return Ifrs9Report(as_of, token, decimals, dict(pd), lgd, tuple(staged))
