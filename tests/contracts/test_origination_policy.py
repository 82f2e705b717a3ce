"""The attestation policy as the LoanLedger's origination policy: loans are refused, by name,
until the borrower holds valid attestations of every type the lender requires from attesters
the lender trusts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from eth_typing import ChecksumAddress
from web3.logs import DISCARD

from loanservicing.chain.abi import role
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import mine
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.sharing.attestations import claim_type_id
from tests.support.data import (
    BORROWER,
    BUREAU,
    DAY,
    EMPLOYER,
    LENDER,
    OTHER,
    DataEnv,
)

if TYPE_CHECKING:  # the `system` fixture's type
    from tests.support.ledger_driver import LedgerDriver

INCOME, IDENTITY = claim_type_id("income"), claim_type_id("identity")


@pytest.fixture
def guarded(system: LedgerDriver, data: DataEnv) -> tuple[LedgerDriver, DataEnv]:
    """The ledger with the policy set; its admin (the lender here) requires income and
    identity attestations from the employer or the bureau."""
    system.send(system.ledger.functions.setOriginationPolicy(data.policy.address))
    assert system.ledger.functions.originationPolicy().call() == data.policy.address
    data.send(
        data.policy.functions.setRequirements(
            system.admin, [INCOME, IDENTITY], [data.address(EMPLOYER), data.address(BUREAU)]
        ),
        system.admin,
    )
    return system, data


def _attest(data: DataEnv, attester: int, borrower: int, claim: str, days: int = 365) -> int:
    signed = data.sign(attester, borrower, claim, b"\x42" * 32, valid_for=days * DAY)
    attestation_id, _ = data.attestations.submit(signed, data.address(OTHER))
    return attestation_id


def _terms(system: LedgerDriver, borrower: ChecksumAddress, principal: int) -> tuple[object, ...]:
    start = system.now() + 1
    return system.terms(
        borrower, principal, 1200, 12, 30 * DAY, start + 30 * DAY, ScheduleKind.ANNUITY,
        5 * DAY, 500, 600, 90,
    )  # fmt: skip


def _refused(
    system: LedgerDriver, borrower: ChecksumAddress, lender: ChecksumAddress | None = None
) -> dict[str, Any]:
    lender = lender or system.admin
    system.fund(lender, 10**6)
    fn = system.originate_call(_terms(system, borrower, 10**6), lender)
    revert = system.reverts("RequiredAttestationMissing", fn, lender).revert
    assert revert is not None
    return revert.args


def test_origination_needs_every_required_attestation(
    guarded: tuple[LedgerDriver, DataEnv],
) -> None:
    system, data = guarded
    borrower = data.address(BORROWER)
    args = _refused(system, borrower)
    assert args["claimType"] == INCOME
    assert args["latestAttestationId"] == 0
    assert str(args["lender"]).lower() == system.admin.lower()
    assert str(args["borrower"]).lower() == borrower.lower()
    _attest(data, EMPLOYER, BORROWER, "income")
    assert _refused(system, borrower)["claimType"] == IDENTITY
    _attest(data, BUREAU, BORROWER, "identity")
    loan_id = system.originate(borrower)
    assert system.loan(loan_id)["borrower"] == borrower


def test_untrusted_expired_revoked_or_removed_attestations_do_not_count(
    guarded: tuple[LedgerDriver, DataEnv],
) -> None:
    system, data = guarded
    borrower = data.address(BORROWER)
    # A registered attester the lender does not trust.
    data.send(data.registry.functions.registerAttester(data.address(OTHER), 3))
    _attest(data, OTHER, BORROWER, "income")
    _attest(data, OTHER, BORROWER, "identity")
    assert _refused(system, borrower)["latestAttestationId"] == 0
    # Trusted ones: valid for 10 days.
    income_id = _attest(data, EMPLOYER, BORROWER, "income", days=10)
    identity_id = _attest(data, BUREAU, BORROWER, "identity")
    system.originate(borrower)
    # Expired.
    mine(system.w3, data.attestations.get(income_id).valid_until + 1)
    args = _refused(system, borrower)
    assert (args["claimType"], args["latestAttestationId"]) == (INCOME, income_id)
    # Renewed, then revoked.
    income_id = _attest(data, EMPLOYER, BORROWER, "income")
    system.originate(borrower)
    data.attestations.revoke(income_id, data.address(EMPLOYER))
    assert _refused(system, borrower)["latestAttestationId"] == income_id
    # Another trusted attester's valid attestation is enough; removing that attester voids it.
    _attest(data, BUREAU, BORROWER, "income")
    system.originate(borrower)
    data.send(data.registry.functions.removeAttester(data.address(BUREAU)))
    assert _refused(system, borrower)["claimType"] == INCOME
    del identity_id


def test_requirements_are_per_lender(guarded: tuple[LedgerDriver, DataEnv]) -> None:
    system, data = guarded
    other_lender = data.address(LENDER)
    system.send(system.ledger.functions.grantRole(role("ORIGINATOR_ROLE"), other_lender))
    # The other lender set no requirements: it may lend to the unattested borrower.
    loan_id = system.originate(data.address(BORROWER), lender=other_lender)
    assert system.loan(loan_id)["lender"] == other_lender
    # A lender sets its own requirements, nobody else's; the policy admin sets anyone's.
    data.reverts(
        "NotLenderOrAdmin",
        data.policy.functions.setRequirements(system.admin, [], []),
        LENDER,
    )
    receipt = data.send(
        data.policy.functions.setRequirements(other_lender, [INCOME], [data.address(EMPLOYER)]),
        LENDER,
    )
    (event,) = data.policy.events.RequirementsSet().process_receipt(receipt, errors=DISCARD)
    assert event["args"]["lender"] == other_lender
    assert event["args"]["setBy"] == other_lender
    assert data.policy.functions.requirements(other_lender).call() == [
        [INCOME],
        [data.address(EMPLOYER)],
    ]
    _refused(system, data.address(BORROWER), other_lender)
    # Lifting the admin lender's requirements by the policy admin.
    data.send(data.policy.functions.setRequirements(system.admin, [], []), system.admin)
    system.originate(data.address(BORROWER))


def test_bad_requirements_are_refused(data: DataEnv) -> None:
    lender = data.address(LENDER)
    too_many = [claim_type_id("income")] * 9
    revert = data.reverts(
        "TooManyRequirements",
        data.policy.functions.setRequirements(lender, too_many, [data.address(EMPLOYER)]),
        LENDER,
    )
    assert revert.args == {"count": 9, "max": 8}
    data.reverts(
        "NoTrustedAttesters", data.policy.functions.setRequirements(lender, [INCOME], []), LENDER
    )


def test_a_lender_cannot_lift_the_floor_its_policy_admin_set(
    guarded: tuple[LedgerDriver, DataEnv],
) -> None:
    system, data = guarded
    lender = data.address(LENDER)
    system.send(system.ledger.functions.grantRole(role("ORIGINATOR_ROLE"), lender))
    receipt = data.send(
        data.policy.functions.setFloor(lender, [INCOME], [data.address(EMPLOYER)]), system.admin
    )
    (event,) = data.policy.events.FloorSet().process_receipt(receipt, errors=DISCARD)
    assert (event["args"]["lender"], event["args"]["setBy"]) == (lender, system.admin)
    # The lender clears its own requirements: the floor still holds.
    data.send(data.policy.functions.setRequirements(lender, [], []), LENDER)
    assert _refused(system, data.address(BORROWER), lender)["claimType"] == INCOME
    # Only a policy admin sets a floor, and nobody but the lender sets its own requirements.
    data.reverts(
        "AccessControlUnauthorizedAccount", data.policy.functions.setFloor(lender, [], []), LENDER
    )
    data.reverts(
        "NotLenderOrAdmin", data.policy.functions.setRequirements(lender, [], []), system.admin
    )
    _attest(data, EMPLOYER, BORROWER, "income")
    loan_id = system.originate(data.address(BORROWER), lender=lender)
    assert system.loan(loan_id)["lender"] == lender


def test_re_registering_an_attester_does_not_revive_its_attestations(
    guarded: tuple[LedgerDriver, DataEnv],
) -> None:
    system, data = guarded
    income_id = _attest(data, EMPLOYER, BORROWER, "income")
    identity_id = _attest(data, BUREAU, BORROWER, "identity")
    system.originate(data.address(BORROWER))
    data.send(data.registry.functions.removeAttester(data.address(EMPLOYER)))
    mine(system.w3, data.now() + 1)
    data.send(data.registry.functions.registerAttester(data.address(EMPLOYER), 2))
    assert not data.registry.functions.isValid(income_id).call()
    assert data.registry.functions.isValid(identity_id).call()
    assert _refused(system, data.address(BORROWER))["latestAttestationId"] == income_id
    # A new attestation from the re-registered attester counts.
    _attest(data, EMPLOYER, BORROWER, "income")
    system.originate(data.address(BORROWER))


def test_a_held_back_signature_cannot_replace_a_revoked_newer_attestation(
    guarded: tuple[LedgerDriver, DataEnv],
) -> None:
    system, data = guarded
    _attest(data, BUREAU, BORROWER, "identity")
    held_back = data.sign(EMPLOYER, BORROWER, "income", b"\x41" * 32)
    newest = data.sign(EMPLOYER, BORROWER, "income", b"\x42" * 32)
    assert held_back.nonce < newest.nonce
    newest_id, _ = data.attestations.submit(newest, data.address(OTHER))
    system.originate(data.address(BORROWER))
    data.attestations.revoke(newest_id, data.address(EMPLOYER))
    _refused(system, data.address(BORROWER))
    with pytest.raises(TransactionReverted) as info:
        data.attestations.submit(held_back, data.address(OTHER))
    assert info.value.error_name == "StaleAttestation"
    assert _refused(system, data.address(BORROWER))["latestAttestationId"] == newest_id
