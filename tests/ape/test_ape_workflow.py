"""The ape workflow: `ape test` compiles contracts/ with ape-solidity (through the solc-js
facade) and runs these tests on ape-foundry's Anvil. Run with `make ape-test`.

Ape's own `accounts` fixture is shadowed by tests/conftest.py's, so accounts come from
`ape.accounts.test_accounts`.

The ledger calls external libraries for its rarely used paths: ape-solidity compiles it only
once those are deployed and registered with `compilers.solidity.add_library`, which links
their addresses in; which ones it calls is read from the package's own compilation.

A loan needs its borrower's EIP-712 signature over the terms: the borrower is ape's test
account 1, Anvil's dev account 1, whose key the package derives (`dev_signer`)."""

from __future__ import annotations

from typing import Any

import ape

from loanservicing.chain.accounts import dev_signer
from loanservicing.deployment.compile import compile_contracts
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.borrower_signature import (
    PLAIN_CALENDAR,
    origination_typed_data,
    sign_terms,
)

LEDGER_LIBRARIES = compile_contracts()["LoanLedger"].libraries


def _system(project: Any) -> tuple[Any, Any, Any, Any]:
    admin = ape.accounts.test_accounts[0]
    libraries = [admin.deploy(getattr(project, name)) for name in LEDGER_LIBRARIES]
    ape.compilers.solidity.add_library(*libraries)
    registry = admin.deploy(project.CreditRegistry, admin)
    ledger = admin.deploy(project.LoanLedger, admin, registry)
    token = admin.deploy(project.TestStablecoin, "Test USD", "tUSD", 6, admin)
    registry.grantRole(registry.REPORTER_ROLE(), ledger, sender=admin)
    ledger.grantRole(ledger.ORIGINATOR_ROLE(), admin, sender=admin)
    ledger.setTokenAllowed(token, True, sender=admin)
    token.mint(admin, 10**12, sender=admin)
    token.approve(ledger, 2**255, sender=admin)
    return admin, registry, ledger, token


def test_originate_repay_and_credit_record(project: Any, chain: Any) -> None:
    admin, registry, ledger, token = _system(project)
    borrower = ape.accounts.test_accounts[1]
    first_due = chain.pending_timestamp + 30 * DAY
    terms = (
        borrower.address,
        token.address,
        1_000 * 10**6,
        1200,
        12,
        30 * DAY,
        first_due,
        0,
        5 * DAY,
        500,
        600,
        90,
        *PLAIN_CALENDAR,
    )
    deadline = chain.pending_timestamp + DAY
    key = dev_signer(1).local_account()
    assert key.address == borrower.address
    typed = origination_typed_data(
        ledger.address, chain.chain_id, terms, admin.address, ledger.nonces(borrower), deadline
    )
    receipt = ledger.originate(terms, deadline, sign_terms(key, typed), sender=admin)
    (event,) = receipt.events.filter(ledger.LoanOriginated)
    loan_id = event.loanId
    assert token.balanceOf(borrower) == 1_000 * 10**6
    _, principal, interest = ledger.installment(loan_id, 1)
    token.approve(ledger, 2**255, sender=borrower)
    ledger.repay(loan_id, principal + interest, sender=borrower)
    assert ledger.loan(loan_id).installmentsPaid == 1
    assert registry.creditRecord(borrower).paidOnTime == 1
    assert registry.reporterRecord(borrower, ledger).paidOnTime == 1
    assert ledger.nonces(borrower) == 1


def test_reverts_by_custom_error_name(project: Any) -> None:
    _, _, ledger, _ = _system(project)
    borrower = ape.accounts.test_accounts[1]
    with ape.reverts(ledger.LoanNotFound):
        ledger.repay(999, 1, sender=borrower)
    with ape.reverts(ledger.ZeroAmount):
        ledger.repay(1, 0, sender=borrower)
    with ape.reverts(ledger.NothingToClaim):
        ledger.claim(ledger.address, borrower, sender=borrower)


def test_library_path_reverts_through_the_ledger(project: Any) -> None:
    admin, _, ledger, _ = _system(project)
    ledger.grantRole(ledger.SERVICER_ROLE(), admin, sender=admin)
    # declareDefault runs in the linked LoanDefaults library; its error is the ledger's.
    with ape.reverts(ledger.LoanNotFound):
        ledger.declareDefault(999, sender=admin)
