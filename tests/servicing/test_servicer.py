from __future__ import annotations

import pytest
from web3 import Web3

from loanservicing.chain.accounts import dev_signer
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import increase_time
from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.servicing.devchain import faucet
from loanservicing.servicing.errors import (
    InsufficientFunds,
    LoanNotFound,
    LoanNotOpen,
    MissingRole,
    NoSigner,
)
from loanservicing.servicing.schedule_view import schedule
from loanservicing.servicing.servicer import LoanTerms, Servicer
from tests.support.servicing import UNIT

BORROWER = dev_signer(1)


def _originate(servicer: Servicer, **overrides: object) -> int:
    terms = {
        "borrower": BORROWER.address,
        "principal": 12_000 * UNIT,
        "apr_bps": 1200,
        "installments": 12,
        "period_seconds": 30 * DAY,
    }
    terms.update(overrides)
    faucet(servicer, servicer.account, int(terms["principal"]))  # type: ignore[call-overload]
    return servicer.originate(LoanTerms(**terms)).loan_id  # type: ignore[arg-type]


def _nonce(w3: Web3, address: str) -> int:
    return int(w3.eth.get_transaction_count(address))  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(ScheduleKind))
def test_originate_show_and_schedule_match_the_ledger(
    servicer: Servicer, kind: ScheduleKind
) -> None:
    loan_id = _originate(servicer, kind=kind, installments=6)
    state = servicer.loan(loan_id)
    assert state.status == "active"
    assert state.borrower == BORROWER.address
    assert state.lender == servicer.account
    assert state.decimals == 6
    assert state.principal == state.principal_outstanding == 12_000 * UNIT
    assert state.installments_total == 6
    assert state.installments_paid == 0
    assert state.days_past_due == 0
    rows = schedule(servicer, loan_id)
    assert [r.number for r in rows] == [1, 2, 3, 4, 5, 6]
    for row in rows:
        due, principal, interest = servicer.ledger.functions.installment(loan_id, row.number).call()
        assert (row.due_timestamp, row.principal, row.interest) == (due, principal, interest)
    assert sum(r.principal or 0 for r in rows) == 12_000 * UNIT
    assert rows[0].status == "due" and rows[1].status == "upcoming"
    assert state.next_due_timestamp == rows[0].due_timestamp
    assert state.next_due_amount == rows[0].total
    assert servicer.balance(BORROWER.address) >= 12_000 * UNIT


def test_repay_approves_allocates_and_marks_rows(servicer: Servicer) -> None:
    loan_id = _originate(servicer)
    first = schedule(servicer, loan_id)[0]
    borrower = servicer.as_account(BORROWER)
    assert borrower.allowance(BORROWER.address) == 0
    result = borrower.repay(loan_id, first.total or 0)
    assert (result.fees, result.penalty) == (0, 0)
    assert result.interest == first.interest
    assert result.principal == first.principal
    assert result.installments_paid == 1
    assert result.status == "active"
    assert result.principal_outstanding == 12_000 * UNIT - (first.principal or 0)
    rows = schedule(servicer, loan_id)
    assert rows[0].status == "paid" and rows[0].paid == first.total
    # Paying more before the next installment falls due is a prepayment: a new segment.
    prepaid = borrower.repay(loan_id, 100 * UNIT)
    assert prepaid.principal == 100 * UNIT
    rows = schedule(servicer, loan_id)
    assert rows[0].status == "paid"  # paid in full before the prepayment replaced it
    assert servicer.loan(loan_id).base_index == 1
    assert sum(r.principal or 0 for r in rows[1:]) == prepaid.principal_outstanding


def test_partial_payment_marks_the_installment_partial(servicer: Servicer) -> None:
    loan_id = _originate(servicer)
    servicer.as_account(BORROWER).repay(loan_id, 100 * UNIT)
    rows = schedule(servicer, loan_id)
    assert rows[0].status == "partial" and rows[0].paid == 100 * UNIT
    assert rows[1].status == "upcoming"


def test_late_installment_accrues_and_payoff_closes(servicer: Servicer, w3: Web3) -> None:
    loan_id = _originate(servicer, grace_seconds=5 * DAY)
    increase_time(w3, 40 * DAY)
    state = servicer.loan(loan_id)
    assert state.days_past_due in (10, 11)  # plus the seconds blocks took
    assert state.past_due > 0
    rows = schedule(servicer, loan_id)
    assert rows[0].status == "overdue"  # unpaid after due date + grace
    quote = servicer.payoff(loan_id)
    # The payoff to the day: the running period's interest only as far as it was earned.
    assert quote.amount == (
        quote.fees
        + quote.penalty
        + quote.interest
        + quote.principal
        + quote.accrued_interest
        + quote.current_principal
        + quote.remaining_principal
        - quote.interest_rebate
    )
    assert 0 < quote.accrued_interest < quote.current_interest and quote.interest_rebate == 0
    assert quote.fees > 0  # the late fee of installment 1
    borrower = servicer.as_account(BORROWER)
    faucet(servicer, BORROWER.address, 1_000 * UNIT)
    result = borrower.repay(loan_id, quote.amount + 50 * UNIT)  # penalty may grow a second
    assert result.status == "closed"
    assert result.principal_outstanding == 0
    assert servicer.loan(loan_id).status == "closed"
    with pytest.raises(LoanNotOpen, match="closed"):
        borrower.repay(loan_id, UNIT)
    record = servicer.credit_record(BORROWER.address)
    assert record.loans_opened == 1 and record.loans_closed == 1
    assert record.missed == 1


def test_bad_writes_send_nothing(servicer: Servicer, w3: Web3) -> None:
    loan_id = _originate(servicer)
    poor = dev_signer(7)
    payer = servicer.as_account(poor)
    token = servicer.token
    balance = servicer.balance(poor.address)
    # Give the payer no tokens at all: it holds whatever tests before left (snapshot reverts).
    assert balance == 0
    nonce = _nonce(w3, poor.address)
    with pytest.raises(InsufficientFunds, match=r"holds 0\.00 tUSDC"):
        payer.repay(loan_id, 10 * UNIT)
    with pytest.raises(InsufficientFunds, match="greater than zero"):
        payer.repay(loan_id, 0)
    with pytest.raises(LoanNotFound, match="no loan 99"):
        payer.repay(99, UNIT)
    faucet(servicer, poor.address, 10 * UNIT)
    with pytest.raises(InsufficientFunds, match="allows the ledger only 0"):
        payer.repay(loan_id, 10 * UNIT, approve=False)
    with pytest.raises(MissingRole, match="lacks ORIGINATOR_ROLE"):
        payer.originate(LoanTerms(dev_signer(2).address, UNIT, 0, 1, DAY))
    with pytest.raises(MissingRole, match="lacks SERVICER_ROLE"):
        payer.declare_default(loan_id)
    assert _nonce(w3, poor.address) == nonce
    assert token.functions.allowance(poor.address, servicer.ledger.address).call() == 0
    lender_nonce = _nonce(w3, servicer.account)
    with pytest.raises(TransactionReverted, match="DefaultThresholdNotReached"):
        servicer.declare_default(loan_id)
    assert _nonce(w3, servicer.account) == lender_nonce


def test_missing_role_from_a_revert_names_the_role(servicer: Servicer) -> None:
    loan_id = _originate(servicer)
    outsider = servicer.as_account(dev_signer(6))
    with pytest.raises(MissingRole, match="SERVICER_ROLE"):
        outsider._send(
            outsider.ledger.functions.proposeRestructure(loan_id, 100, 3, DAY, 2**39),
            "Proposing",
        )


def test_default_after_threshold(servicer: Servicer, w3: Web3) -> None:
    loan_id = _originate(servicer, default_after_days=30)
    increase_time(w3, 61 * DAY)
    servicer.assess(loan_id)
    assert servicer.loan(loan_id).delinquency_bucket == 2
    servicer.declare_default(loan_id)
    state = servicer.loan(loan_id)
    assert state.status == "defaulted"
    assert servicer.credit_record(BORROWER.address).defaults == 1
    with pytest.raises(LoanNotOpen, match="defaulted"):
        servicer.assess(loan_id)
    recovery = servicer.as_account(BORROWER).repay(loan_id, 500 * UNIT)
    assert recovery.status == "defaulted"


def test_restructure_keeps_replaced_installments_as_settled(servicer: Servicer, w3: Web3) -> None:
    loan_id = _originate(servicer, installments=6)
    before = schedule(servicer, loan_id)
    increase_time(w3, 65 * DAY)
    deadline = servicer.now() + 7 * DAY
    servicer.propose_restructure(loan_id, 600, 10, 30 * DAY, deadline)
    proposal = servicer.restructure_proposal(loan_id)
    assert proposal is not None
    assert (proposal.apr_bps, proposal.installments, proposal.period_seconds) == (600, 10, 30 * DAY)
    assert proposal.deadline == deadline and proposal.servicer == servicer.account
    with pytest.raises(MissingRole, match="Only the borrower"):
        servicer.accept_restructure(loan_id, proposal)
    servicer.as_account(BORROWER).accept_restructure(loan_id, proposal)
    state = servicer.loan(loan_id)
    assert state.days_past_due == 0
    assert state.installments_total == 12
    assert state.apr_bps == 600
    rows = schedule(servicer, loan_id)
    assert [r.status for r in rows[:2]] == ["settled", "settled"]
    for old, new in zip(before[:2], rows[:2], strict=True):
        assert (new.due_timestamp, new.principal, new.interest) == (
            old.due_timestamp,
            old.principal,
            old.interest,
        )
        assert new.paid == 0  # taken over unpaid by the restructuring
    for row in rows[2:]:
        due, principal, interest = servicer.ledger.functions.installment(loan_id, row.number).call()
        assert (row.due_timestamp, row.principal, row.interest) == (due, principal, interest)


def test_prepayment_then_restructure_rebuilds_every_segment(servicer: Servicer, w3: Web3) -> None:
    loan_id = _originate(servicer, installments=6)
    borrower = servicer.as_account(BORROWER)
    original = schedule(servicer, loan_id)
    borrower.repay(loan_id, (original[0].total or 0) + 1_000 * UNIT)  # installment 1 + prepayment
    after_prepayment = schedule(servicer, loan_id)
    assert after_prepayment[0].principal == original[0].principal
    increase_time(w3, 95 * DAY)
    servicer.propose_restructure(loan_id, 900, 6, 30 * DAY, servicer.now() + DAY)
    proposal = servicer.restructure_proposal(loan_id)
    assert proposal is not None
    borrower.accept_restructure(loan_id, proposal)
    rows = schedule(servicer, loan_id)
    base = servicer.loan(loan_id).base_index
    assert base >= 3
    assert [r.status for r in rows[:base]] == ["paid"] + ["settled"] * (base - 1)
    assert rows[0].principal == original[0].principal
    for n in range(2, base + 1):  # from the segment the prepayment started
        old = after_prepayment[n - 1]
        new = rows[n - 1]
        assert (new.due_timestamp, new.principal, new.interest) == (
            old.due_timestamp,
            old.principal,
            old.interest,
        )


def test_list_filters_by_borrower_and_status(servicer: Servicer) -> None:
    first = _originate(servicer)
    other = _originate(servicer, borrower=dev_signer(2).address)
    assert [s.loan_id for s in servicer.loans(borrower=BORROWER.address)] == [first]
    assert {s.loan_id for s in servicer.loans(status="active")} >= {first, other}
    assert servicer.loans(status="closed") == []


def test_read_only_servicer_reads_but_refuses_writes(
    servicer: Servicer, w3: Web3, deployment: object, artifacts: dict[str, object]
) -> None:
    loan_id = _originate(servicer)
    reader = Servicer(w3, deployment, artifacts)  # type: ignore[arg-type]
    assert reader.loan(loan_id).status == "active"
    with pytest.raises(NoSigner, match="no account was given"):
        reader.assess(loan_id)


def test_terms_beyond_the_ledger_limits_are_refused_before_any_approval(
    servicer: Servicer, w3: Web3
) -> None:
    # Under 2^96 (the limit a copy of the ledger's checks used to apply), but the ledger caps the
    # principal so that P (1 + r (m + 1)) fits its 96-bit amounts (one period more: an odd
    # first period): 100 % over 480 periods of 366 days.
    principal, apr_bps, installments, period = 2**90, 10_000, 480, 366 * DAY
    faucet(servicer, servicer.account, principal)  # the lender could fund it
    nonce = _nonce(w3, servicer.account)
    allowance = servicer.allowance(servicer.account)
    rate_den = 10_000 * 365 * DAY
    cap = (2**96 - 1) * rate_den // (rate_den + apr_bps * period * (installments + 1))
    terms = LoanTerms(BORROWER.address, principal, apr_bps, installments, period)
    with pytest.raises(
        TransactionReverted,
        match=rf"^Originating the loan reverted with InvalidPrincipal\(principal={principal}, "
        rf"maxPrincipal={cap}\)\.$",
    ) as refused:
        servicer.originate(terms)
    assert refused.value.error_name == "InvalidPrincipal"
    assert _nonce(w3, servicer.account) == nonce  # no approval was sent
    assert servicer.allowance(servicer.account) == allowance
    # The same terms with the ledger's largest principal pass its checks and are originated.
    largest = LoanTerms(BORROWER.address, cap, apr_bps, installments, period)
    assert servicer.loan(servicer.originate(largest).loan_id).principal == cap


def test_the_ledger_checks_the_parties_and_the_first_due_date(servicer: Servicer, w3: Web3) -> None:
    faucet(servicer, servicer.account, 10 * UNIT)
    nonce = _nonce(w3, servicer.account)
    with pytest.raises(
        TransactionReverted,
        match=r"would lend to itself: the borrower and the lender must differ \(BorrowerIsLender\)",
    ):
        servicer.originate(LoanTerms(servicer.account, 10 * UNIT, 1200, 2, 30 * DAY))
    past = LoanTerms(BORROWER.address, 10 * UNIT, 1200, 2, 30 * DAY, first_due_timestamp=1)
    with pytest.raises(
        TransactionReverted,
        match=r"the first due date 1970-01-01T00:00:01Z is outside what the ledger takes",
    ):
        servicer.originate(past)
    assert _nonce(w3, servicer.account) == nonce


def test_an_approved_principal_originates_without_a_new_approval(
    servicer: Servicer, w3: Web3
) -> None:
    faucet(servicer, servicer.account, 10 * UNIT)
    servicer.ensure_allowance(10 * UNIT)  # the simulation then passes without a revert
    nonce = _nonce(w3, servicer.account)
    servicer.originate(LoanTerms(BORROWER.address, 10 * UNIT, 1200, 2, 30 * DAY))
    assert _nonce(w3, servicer.account) == nonce + 1  # the origination alone


def test_a_restructuring_outside_the_ledger_limits_sends_nothing(
    servicer: Servicer, w3: Web3
) -> None:
    loan_id = _originate(servicer)
    nonce = _nonce(w3, servicer.account)
    deadline = servicer.now() + DAY
    refused = r"0 installments is not between 1 and 480 \(InvalidInstallments\)"
    with pytest.raises(TransactionReverted, match=refused):
        servicer.propose_restructure(loan_id, 600, 0, 30 * DAY, deadline)
    with pytest.raises(TransactionReverted, match="1970-01-01T00:00:01Z is not after the chain"):
        servicer.propose_restructure(loan_id, 600, 6, 30 * DAY, 1)
    assert _nonce(w3, servicer.account) == nonce
