"""Held repayments and their claim (a lender the token's issuer blocked), restructurings
accepted by their named terms and withdrawn, per-reporter credit records, and the ledger's
new refusals explained."""

from __future__ import annotations

from dataclasses import replace

import pytest
from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.accounts import dev_signer
from loanservicing.chain.node import increase_time
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract
from loanservicing.deployment.manifest import Deployment, entry_for
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.devchain import faucet
from loanservicing.servicing.errors import InsufficientFunds, LedgerRefusal, MissingRole
from loanservicing.servicing.servicer import LoanTerms, RestructureProposal, Servicer
from tests.support.servicing import UNIT

BORROWER = dev_signer(1)
TREASURY = dev_signer(8).address


@pytest.fixture
def blocklist(
    w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact], servicer: Servicer
) -> tuple[Servicer, Contract]:
    """A servicer of the same ledger lending a BlocklistStablecoin (owned by dev account 0,
    allowed by the admin), and the token with its issuer's functions."""
    sender = servicer.sender_of(servicer.account)
    assert sender is not None
    token = deploy_contract(
        sender, artifacts["BlocklistStablecoin"], "Blocked USD", "bUSD", 6, servicer.account
    )
    assert servicer.allow_token(token.address).allowed
    entry = entry_for(w3, artifacts["BlocklistStablecoin"], token.address)
    return Servicer(w3, replace(deployment, token=entry), artifacts, dev_signer(0)), token


def _lend(servicer: Servicer, principal: int = 6_000 * UNIT, **terms: int) -> int:
    faucet(servicer, servicer.account, principal)
    terms_ = LoanTerms(BORROWER.address, principal, 1200, 6, 30 * DAY, **terms)  # type: ignore[arg-type]
    return servicer.originate(terms_).loan_id


def test_a_repayment_to_a_blocked_lender_is_held_and_claimed_elsewhere(
    blocklist: tuple[Servicer, Contract],
) -> None:
    servicer, token = blocklist
    lender = servicer.account
    loan_id = _lend(servicer)
    sender = servicer.sender_of(lender)
    assert sender is not None
    sender.send(token.functions.setBlocked(lender, True), "Blocking the lender")
    before = servicer.balance(lender)
    installment = servicer.loan(loan_id).next_due_amount
    borrower = servicer.as_account(BORROWER)
    paid = borrower.repay(loan_id, installment)
    assert paid.total == installment and paid.installments_paid == 1
    assert paid.held == installment and paid.lender_claimable == installment
    assert servicer.balance(lender) == before
    assert servicer.balance(servicer.ledger.address) == installment
    assert servicer.claimable(lender) == installment
    # The lender cannot receive the token: claiming to itself is refused, nothing is sent.
    nonce = servicer.w3.eth.get_transaction_count(lender)
    with pytest.raises(LedgerRefusal, match=r"the token refuses to pay .* name another recipient"):
        servicer.claim()
    assert servicer.w3.eth.get_transaction_count(lender) == nonce
    claim = servicer.claim(to=TREASURY)
    assert (claim.lender, claim.to, claim.amount, claim.decimals) == (
        lender,
        TREASURY,
        installment,
        6,
    )
    assert servicer.balance(TREASURY) == installment
    assert servicer.claimable(lender) == 0
    with pytest.raises(InsufficientFunds, match="so there is nothing to claim"):
        servicer.claim(to=TREASURY)
    # Unblocked, the lender is paid directly again.
    sender.send(token.functions.setBlocked(lender, False), "Unblocking the lender")
    again = borrower.repay(loan_id, 100 * UNIT)
    assert again.held == 0 and servicer.claimable(lender) == 0


def test_accepting_names_the_proposal_and_a_withdrawn_one_cannot_be_accepted(
    servicer: Servicer, w3: Web3
) -> None:
    loan_id = _lend(servicer)
    borrower = servicer.as_account(BORROWER)
    assert servicer.restructure_proposal(loan_id) is None
    increase_time(w3, 40 * DAY)
    deadline = servicer.now() + 7 * DAY
    servicer.propose_restructure(loan_id, 900, 8, 30 * DAY, deadline)
    proposal = servicer.restructure_proposal(loan_id)
    assert proposal == RestructureProposal(
        loan_id, 900, 8, 30 * DAY, deadline, servicer.account, proposal.block if proposal else 0
    )
    assert proposal is not None
    other = replace(proposal, apr_bps=800)
    with pytest.raises(LedgerRefusal, match="are not loan 1's pending restructuring proposal"):
        borrower.accept_restructure(loan_id, other)
    with pytest.raises(MissingRole, match="lacks SERVICER_ROLE"):
        borrower.withdraw_restructure(loan_id)
    servicer.withdraw_restructure(loan_id)
    with pytest.raises(LedgerRefusal) as refused:
        borrower.accept_restructure(loan_id, proposal)
    assert refused.value.error_name == "NoRestructureProposal"
    assert str(refused.value).startswith(
        "Accepting the restructuring of loan 1 was refused: loan 1 has no pending "
        "restructuring proposal"
    )
    with pytest.raises(LedgerRefusal, match="NoRestructureProposal"):
        servicer.withdraw_restructure(loan_id)
    servicer.propose_restructure(loan_id, 900, 8, 30 * DAY, deadline)
    renewed = servicer.restructure_proposal(loan_id)
    assert renewed is not None
    borrower.accept_restructure(loan_id, renewed)
    assert servicer.loan(loan_id).apr_bps == 900


def test_a_due_default_cannot_be_restructured_nor_declared_inside_grace(
    servicer: Servicer, w3: Web3
) -> None:
    # A threshold of as many days as the grace period: at 5 days past due the installment
    # is still inside its grace period for the rest of that day.
    loan_id = _lend(servicer, default_after_days=5, grace_seconds=5 * DAY)
    due = servicer.loan(loan_id).next_due_timestamp
    assert due is not None
    increase_time(w3, due - servicer.now() + 4 * DAY + DAY // 2)
    with pytest.raises(LedgerRefusal) as inside:
        servicer.declare_default(loan_id)
    assert inside.value.error_name == "DefaultInsideGrace"
    assert "inside its grace period until" in str(inside.value)
    increase_time(w3, 5 * DAY)
    servicer.propose_restructure(loan_id, 900, 8, 30 * DAY, servicer.now() + DAY)
    proposal = servicer.restructure_proposal(loan_id)
    assert proposal is not None
    with pytest.raises(LedgerRefusal) as due_default:
        servicer.as_account(BORROWER).accept_restructure(loan_id, proposal)
    assert due_default.value.error_name == "DefaultDue"
    assert "so it can no longer be restructured" in str(due_default.value)
    servicer.declare_default(loan_id)
    assert servicer.loan(loan_id).status == "defaulted"


def test_each_reporters_record_sums_to_the_total(servicer: Servicer) -> None:
    loan_id = _lend(servicer)
    servicer.as_account(BORROWER).repay(loan_id, servicer.loan(loan_id).next_due_amount)
    total = servicer.credit_record(BORROWER.address)
    by_reporter = servicer.reporter_records(BORROWER.address)
    assert [reporter for reporter, _ in by_reporter] == [servicer.ledger.address]
    ((_, record),) = by_reporter
    assert record == total
    assert record.paid_on_time == 1 and record.loans_opened == 1


def test_a_second_ledger_reports_beside_the_first(
    servicer: Servicer, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    """Two ledgers reporting to one registry: the record shows each and their sum."""
    sender = servicer.sender_of(servicer.account)
    assert sender is not None
    second = deploy_contract(
        sender,
        artifacts["LoanLedger"],
        servicer.account,
        deployment.credit_registry.address,
        artifacts=artifacts,
    )
    registry = servicer.registry
    role = registry.functions.REPORTER_ROLE().call()
    sender.send(registry.functions.grantRole(role, second.address), "Granting")
    for name in ("ORIGINATOR_ROLE", "SERVICER_ROLE"):
        role_id = getattr(second.functions, name)().call()
        sender.send(second.functions.grantRole(role_id, servicer.account), "Granting")
    sender.send(second.functions.setTokenAllowed(servicer.token.address, True), "Allowing")
    _lend(servicer)
    ledger = entry_for(w3, artifacts["LoanLedger"], second.address)
    other = Servicer(w3, replace(deployment, ledger=ledger), artifacts, dev_signer(0))
    _lend(other, 1_000 * UNIT)
    records = dict(servicer.reporter_records(BORROWER.address))
    assert list(records) == [servicer.ledger.address, second.address]
    assert all(r.loans_opened == 1 for r in records.values())
    assert servicer.credit_record(BORROWER.address).loans_opened == 2
