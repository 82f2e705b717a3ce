"""The credit score: the contract's formula (``CreditScore.sol``, through a harness and the
registry's views) and its Python twin agree on every record; repaying on time raises it by
itself."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from loanservicing.ledger.credit import CreditRecord
from loanservicing.ledger.credit_score import FACTORS, MAX_SCORE, MIN_SCORE, credit_score
from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver

PERIOD = 30 * DAY
FIELDS = ("paidOnTime", "paidLate", "missed", "currentDaysPastDue", "maxDaysPastDue",
          "defaults", "loansOpened", "loansClosed", "totalRepaid", "forbearances")  # fmt: skip
BITS = (24, 24, 24, 16, 16, 16, 16, 16, 96, 8)


def _small_or_full(bits: int) -> st.SearchStrategy[int]:
    """Counters near the formula's thresholds, and up to the field's full width."""
    return st.one_of(st.integers(0, 200), st.integers(0, 2**bits - 1))


RECORDS = st.tuples(*(_small_or_full(b) for b in BITS))


@pytest.fixture
def harness(system: LedgerDriver) -> Contract:
    return system.deploy_contract("CreditScoreHarness")


def _record(values: tuple[int, ...]) -> CreditRecord:
    return CreditRecord.from_view("0x" + "00" * 20, dict(zip(FIELDS, values, strict=True)))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=RECORDS)
def test_the_python_score_is_the_contracts(harness: Contract, values: tuple[int, ...]) -> None:
    score, factors = harness.functions.score(values).call()
    mine = credit_score(_record(values))
    assert mine.score == score
    assert list(mine.factors.values()) == list(factors)
    assert [f.name for f in FACTORS] == [o["name"] for o in _factor_fields(harness)]
    assert score == 0 if values[6] == 0 else MIN_SCORE <= score <= MAX_SCORE


def _factor_fields(harness: Contract) -> list[dict[str, Any]]:
    (fn,) = [f for f in harness.abi if f.get("name") == "score"]
    return list(fn["outputs"][1]["components"])


def test_bounds_and_what_moves_the_score() -> None:
    best = credit_score(_record((48, 0, 0, 0, 0, 0, 5, 5, 0, 0)))
    assert best.score == MAX_SCORE
    assert credit_score(_record((0,) * 10)).score == 0  # no loan: nothing to score
    fresh = credit_score(_record((0, 0, 0, 0, 0, 0, 1, 0, 0, 0)))
    assert fresh.score == MIN_SCORE + 100  # current, no history yet
    worst = credit_score(_record((0, 0, 500, 400, 400, 9, 9, 0, 0, 0)))
    assert worst.score == MIN_SCORE
    one_late = credit_score(_record((11, 1, 0, 0, 0, 0, 1, 0, 0, 0)))
    on_time = credit_score(_record((12, 0, 0, 0, 0, 0, 1, 0, 0, 0)))
    assert on_time.score > one_late.score
    forborne = credit_score(_record((12, 0, 0, 0, 0, 0, 1, 0, 0, 3)))
    assert forborne.score == on_time.score  # relief is not held against the borrower


def test_the_registrys_score_moves_by_itself_with_every_report(system: LedgerDriver) -> None:
    borrower, keeper = system.accounts[3], system.accounts[5]
    registry = system.registry.functions
    assert registry.creditScore(borrower).call()[0] == 0
    start = system.now() + 10
    loan = system.originate(borrower, at=start)
    curve = Curve.of_period(ScheduleKind.ANNUITY, 12_000 * UNIT, 12, 1200, PERIOD)
    scores = [registry.creditScore(borrower).call()[0]]
    for k in (1, 2, 3):
        system.repay(loan, sum(curve.part(k)), borrower, at=start + k * PERIOD - DAY)
        scores.append(registry.creditScore(borrower).call()[0])
    assert scores == sorted(scores) and scores[-1] > scores[0]  # on time: up by itself
    system.send(system.ledger.functions.assess(loan), keeper, at=start + 4 * PERIOD + 10 * DAY)
    late = registry.creditScore(borrower).call()
    assert late[0] < scores[-1]
    record = CreditRecord.from_view(borrower, system.record(borrower))
    assert credit_score(record).score == late[0]
    assert list(credit_score(record).factors.values()) == list(late[1])
    by_reporter = registry.reporterScore(borrower, system.ledger.address).call()
    assert by_reporter[0] == late[0]  # one reporter: its figures are the record
