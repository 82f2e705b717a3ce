"""Fixtures for the data-sharing tests (attestations, consent, policy, vault, audit export).

Registered for every test through ``pytest_plugins`` in tests/conftest.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.accounts import Signer, TransactionSender, dev_signer
from loanservicing.chain.errors import TransactionReverted
from loanservicing.chain.node import chain_time
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import send
from loanservicing.deployment.bindings import DataContracts, bind_data, revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract, deploy_data_sharing
from loanservicing.ledger.schedule import DAY
from loanservicing.sharing.attestations import AttestationClient, SignedAttestation, claim_type_id
from loanservicing.sharing.consent import ConsentClient
from tests.support.ledger_driver import LedgerDriver

ADMIN, BORROWER, LENDER, EMPLOYER, BUREAU, OTHER, WALLET_OWNER = 0, 1, 2, 3, 4, 5, 6
REGULATOR = 9


def derive_dev_keys(count: int = 10) -> list[LocalAccount]:
    return [dev_signer(i).local_account() for i in range(count)]


@dataclass
class DataEnv:
    """The deployed data-sharing contracts, clients and dev keys."""

    w3: Web3
    contracts: DataContracts
    attestations: AttestationClient
    consents: ConsentClient
    decoder: RevertDecoder
    keys: list[LocalAccount]
    artifacts: dict[str, ContractArtifact]

    @property
    def registry(self) -> Contract:
        return self.contracts.attestation_registry

    @property
    def consent_registry(self) -> Contract:
        return self.contracts.consent_registry

    @property
    def policy(self) -> Contract:
        return self.contracts.policy

    def address(self, index: int) -> ChecksumAddress:
        return self.keys[index].address

    def now(self) -> int:
        return chain_time(self.w3)

    def send(self, fn: Any, sender: int | ChecksumAddress = ADMIN, gas: int | None = None) -> Any:
        address = self.address(sender) if isinstance(sender, int) else sender
        return send(self.w3, fn, address, self.decoder, gas=gas)

    def reverts(self, name: str, fn: Any, sender: int | ChecksumAddress = ADMIN) -> Any:
        """Assert that ``fn`` sent by ``sender`` reverts with error ``name``."""
        with pytest.raises(TransactionReverted) as info:
            self.send(fn, sender)
        assert info.value.error_name == name, str(info.value)
        return info.value.revert

    def sign(
        self,
        attester: int,
        subject: int,
        claim: str,
        claim_hash: bytes,
        valid_for: int = 365 * DAY,
        nonce: int | None = None,
    ) -> SignedAttestation:
        return self.attestations.sign(
            self.keys[attester],
            self.address(subject),
            claim_type_id(claim),
            claim_hash,
            self.now() + valid_for,
            nonce,
        )

    def sender(self, index: int) -> TransactionSender:
        """A locally signing sender for dev account ``index``."""
        return TransactionSender(
            self.w3, Signer(self.keys[index], f"dev account {index}"), self.decoder
        )

    def deploy_wallet(self, owner: int) -> Contract:
        return deploy_contract(
            self.sender(owner), self.artifacts["ERC1271Wallet"], self.address(owner)
        )


@pytest.fixture(scope="session", name="dev_keys")
def dev_keys_fixture() -> list[LocalAccount]:
    return derive_dev_keys()


@pytest.fixture(scope="session", name="data")
def data_fixture(
    w3: Web3, artifacts: dict[str, ContractArtifact], dev_keys: list[LocalAccount]
) -> DataEnv:
    """Data contracts deployed by account 0 (admin), account 9 a regulator, accounts 3 and 4
    registered attesters (employer, credit bureau)."""
    assert [k.address for k in dev_keys] == list(w3.eth.accounts)[: len(dev_keys)]
    decoder = revert_decoder(artifacts)
    admin = dev_keys[ADMIN].address
    sender = TransactionSender(w3, Signer(dev_keys[ADMIN], "dev account 0"), decoder)
    data = deploy_data_sharing(sender, artifacts, regulators=[dev_keys[REGULATOR].address])
    contracts = bind_data(w3, data, artifacts)
    attestations = AttestationClient(w3, contracts.attestation_registry, decoder)
    attestations.register_attester(admin, dev_keys[EMPLOYER].address, "employer")
    attestations.register_attester(admin, dev_keys[BUREAU].address, "credit-bureau")
    consents = ConsentClient(w3, contracts.consent_registry, decoder)
    return DataEnv(w3, contracts, attestations, consents, decoder, dev_keys, artifacts)


@dataclass(frozen=True)
class LedgerEnv:
    """The servicing contracts (ledger, credit registry, 6-decimal token), admin = account 0."""

    ledger: Contract
    credit_registry: Contract
    token: Contract


@pytest.fixture(scope="session", name="ledger_env")
def ledger_env_fixture(deployed_system: LedgerDriver) -> LedgerEnv:
    system = deployed_system
    return LedgerEnv(system.ledger, system.registry, system.token)
