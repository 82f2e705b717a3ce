"""Deploy the data-sharing contracts: attestation registry, consent registry, attestation
policy; grant the regulator role; optionally make the policy the ledger's origination policy.

``deployments/data-<chain_id>.json`` records the addresses so that the CLI finds them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.transactions import send
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_contract, revert_decoder, role
from loanservicing.deployment.errors import DeploymentError

__all__ = [
    "DataContracts",
    "bind_data_contracts",
    "deploy_data_contracts",
    "deployment_path",
    "load_data_deployment",
    "write_data_deployment",
]

REGULATOR_ROLE = "REGULATOR_ROLE"


@dataclass(frozen=True)
class DataContracts:
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


def deploy_data_contracts(
    w3: Web3,
    artifacts: dict[str, ContractArtifact],
    admin: ChecksumAddress,
    regulators: Iterable[ChecksumAddress] = (),
    ledger: Contract | None = None,
    set_policy: bool = False,
) -> DataContracts:
    """Deploy the three contracts from ``admin``; grant REGULATOR_ROLE to ``regulators``; when
    ``set_policy``, call ``ledger.setOriginationPolicy(policy)`` (admin of the ledger)."""
    decoder = revert_decoder(artifacts)
    first_block = w3.eth.block_number + 1
    attestations = deploy_contract(w3, artifacts["AttestationRegistry"], admin, decoder, admin)
    consents = deploy_contract(w3, artifacts["ConsentRegistry"], admin, decoder, admin)
    policy = deploy_contract(
        w3, artifacts["AttestationPolicy"], admin, decoder, admin, attestations.address
    )
    for regulator in regulators:
        fn = consents.functions.grantRole(role(REGULATOR_ROLE), regulator)
        send(w3, fn, admin, decoder, "Granting the regulator role")
    if set_policy:
        if ledger is None:
            raise DeploymentError("Setting the origination policy needs the ledger's address.")
        fn = ledger.functions.setOriginationPolicy(policy.address)
        send(w3, fn, admin, decoder, "Setting the ledger's origination policy")
    return DataContracts(attestations, consents, policy, first_block)


def bind_data_contracts(
    w3: Web3, artifacts: dict[str, ContractArtifact], addresses: dict[str, Any], block: int = 0
) -> DataContracts:
    """Contract objects for already deployed addresses."""
    try:
        return DataContracts(
            w3.eth.contract(
                address=Web3.to_checksum_address(addresses["attestation_registry"]),
                abi=artifacts["AttestationRegistry"].abi,
            ),
            w3.eth.contract(
                address=Web3.to_checksum_address(addresses["consent_registry"]),
                abi=artifacts["ConsentRegistry"].abi,
            ),
            w3.eth.contract(
                address=Web3.to_checksum_address(addresses["attestation_policy"]),
                abi=artifacts["AttestationPolicy"].abi,
            ),
            block,
        )
    except (KeyError, ValueError) as exc:
        raise DeploymentError(f"The data deployment lacks a valid address: {exc}.") from None


def deployment_path(chain_id: int, directory: Path = Path("deployments")) -> Path:
    return directory / f"data-{chain_id}.json"


def write_data_deployment(path: Path, chain_id: int, contracts: DataContracts) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"chain_id": chain_id, "block": contracts.block, **contracts.addresses()}
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf8")


def load_data_deployment(
    path: Path, w3: Web3, artifacts: dict[str, ContractArtifact]
) -> DataContracts:
    """Bind the contracts of a deployment file, refusing one made for another chain or whose
    addresses hold no code."""
    try:
        document = json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"Cannot read the data deployment file {path}: {exc}.") from None
    chain_id = int(w3.eth.chain_id)
    if int(document.get("chain_id", -1)) != chain_id:
        raise DeploymentError(
            f"The data deployment file {path} is for chain {document.get('chain_id')}, "
            f"but the node is chain {chain_id}."
        )
    contracts = bind_data_contracts(w3, artifacts, document, int(document.get("block", 0)))
    for contract in (contracts.attestation_registry, contracts.consent_registry, contracts.policy):
        if not w3.eth.get_code(contract.address):
            raise DeploymentError(
                f"No contract is deployed at {contract.address} on chain {chain_id}; "
                f"the data deployment file {path} is stale."
            )
    return contracts
