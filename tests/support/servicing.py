"""Fixtures shared by the servicing, CLI and demo tests: a deployment made by a locally
signing dev account on the session Anvil, and a Servicer per test (fresh nonce counters)."""

from __future__ import annotations

import pytest
from web3 import Web3

from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_system
from loanservicing.deployment.manifest import Deployment
from loanservicing.servicing.servicer import Servicer

UNIT = 10**6


@pytest.fixture(scope="session")
def deployment(w3: Web3, artifacts: dict[str, ContractArtifact]) -> Deployment:
    sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    return deploy_system(sender, artifacts)


@pytest.fixture
def servicer(w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]) -> Servicer:
    return Servicer(w3, deployment, artifacts, dev_signer(0))
