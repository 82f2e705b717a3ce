"""The ledger's schedule views equal the Python mirror for random terms, and its payoff to the
day runs from nothing at origination to the first period's interest at the first due date."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loanservicing.ledger.schedule import Curve, ScheduleKind
from tests.support.ledger_driver import DAY, LedgerDriver

terms = st.tuples(
    st.sampled_from(list(ScheduleKind)),
    st.integers(1, 10**15),
    st.integers(1, 480),
    st.integers(0, 10_000),
    st.sampled_from([DAY, 7 * DAY, 30 * DAY, 91 * DAY, 365 * DAY]),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(terms=terms)
def test_installment_views_match_the_python_schedule(
    system: LedgerDriver, terms: tuple[ScheduleKind, int, int, int, int]
) -> None:
    kind, principal, count, apr, period = terms
    borrower = system.accounts[2]
    loan_id = system.originate(
        borrower, principal=principal, apr_bps=apr, installments=count, period=period, kind=kind
    )
    curve = Curve.of_period(kind, principal, count, apr, period)
    start = system.loan(loan_id)["segmentStart"]
    numbers = sorted({n for n in (1, 2, count // 2, count - 1, count) if 1 <= n <= count})
    for number in numbers:
        due, p, i = system.installment(loan_id, number)
        assert (p, i) == curve.part(number)
        assert due == start + number * period
    quote = system.due(loan_id, system.now())
    assert quote["payoff"] == principal  # on the origination second nothing is earned yet
    assert (quote["currentPrincipal"], quote["currentInterest"]) == curve.part(1)
    # By the first due date the first period's interest is earned in full.
    assert system.due(loan_id, start + period)["payoff"] == principal + curve.part(1)[1]


def test_installment_out_of_range(system: LedgerDriver) -> None:
    loan_id = system.originate(system.accounts[2], installments=6)
    for number in (0, 7):
        try:
            system.ledger.functions.installment(loan_id, number).call()
        except Exception as exc:  # web3 raises ContractCustomError
            decoded = system.decoder.decode(bytes.fromhex(str(exc.args[1])[2:]))
            assert decoded is not None and decoded.name == "InstallmentOutOfRange"
            assert decoded.args == {"loanId": loan_id, "installment": number, "first": 1, "last": 6}
        else:
            raise AssertionError("installment out of range did not revert")
