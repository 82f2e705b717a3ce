"""web3 contract objects for a deployment, and the revert decoder that knows their errors.

``bind`` turns a core deployment (``deployments/<chain_id>.json``) into the ledger, credit
registry and token; ``bind_data`` and ``load_data_deployment`` do the same for the
data-sharing contracts (``deployments/data-<chain_id>.json``). Code that needs a contract
object for a deployed address gets it here rather than building one inline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.reverts import RevertDecoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import (
    DataDeployment,
    Deployment,
    read_data_deployment,
    verify_data_deployment,
)

__all__ = [
    "DataContracts",
    "SystemContracts",
    "bind",
    "bind_data",
    "load_data_deployment",
    "revert_decoder",
]

TOKEN_ABI_CONTRACT = "TestStablecoin"
"""The token is bound with the TestStablecoin ABI (an ERC-20 plus ``mint`` on dev chains)."""


def revert_decoder(artifacts: dict[str, ContractArtifact]) -> RevertDecoder:
    """A decoder that knows every error of every compiled contract (OpenZeppelin's too)."""
    return RevertDecoder(a.abi for a in artifacts.values())


@dataclass(frozen=True)
class SystemContracts:
    """The servicing core, as web3 contract objects."""

    ledger: Contract
    credit_registry: Contract
    token: Contract
    block: int
    """The first block of the deployment (where an index starts)."""


@dataclass(frozen=True)
class DataContracts:
    """The data-sharing contracts, as web3 contract objects."""

    attestation_registry: Contract
    consent_registry: Contract
    policy: Contract
    block: int

    def addresses(self) -> dict[str, str]:
        return {
            "attestation_registry": self.attestation_registry.address,
            "consent_registry": self.consent_registry.address,
            "attestation_policy": self.policy.address,
        }

    def manifest(self, chain_id: int) -> DataDeployment:
        """What the data deployment file records about these contracts."""
        return DataDeployment(
            chain_id=chain_id,
            block=self.block,
            attestation_registry=self.attestation_registry.address,
            consent_registry=self.consent_registry.address,
            attestation_policy=self.policy.address,
        )


def bind(
    w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> SystemContracts:
    """Contract objects for the ledger, credit registry and token of ``deployment``."""
    return SystemContracts(
        ledger=w3.eth.contract(address=deployment.ledger.address, abi=artifacts["LoanLedger"].abi),
        credit_registry=w3.eth.contract(
            address=deployment.credit_registry.address, abi=artifacts["CreditRegistry"].abi
        ),
        token=w3.eth.contract(
            address=deployment.token.address, abi=artifacts[TOKEN_ABI_CONTRACT].abi
        ),
        block=deployment.block,
    )


def bind_data(
    w3: Web3, data: DataDeployment, artifacts: dict[str, ContractArtifact]
) -> DataContracts:
    """Contract objects for the data-sharing contracts of ``data``."""
    return DataContracts(
        w3.eth.contract(
            address=data.attestation_registry, abi=artifacts["AttestationRegistry"].abi
        ),
        w3.eth.contract(address=data.consent_registry, abi=artifacts["ConsentRegistry"].abi),
        w3.eth.contract(address=data.attestation_policy, abi=artifacts["AttestationPolicy"].abi),
        data.block,
    )


def load_data_deployment(
    path: Path, w3: Web3, artifacts: dict[str, ContractArtifact]
) -> DataContracts:
    """Bind the contracts of a data deployment file, refusing one made for another chain or
    whose addresses hold no code."""
    data = read_data_deployment(path)
    verify_data_deployment(w3, data, path)
    return bind_data(w3, data, artifacts)
