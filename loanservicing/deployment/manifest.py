"""The deployment files: where the contracts live on one chain.

``deployments/<chain_id>.json`` describes the servicing core. It records the chain id, the
deployment block and, per contract (ledger, credit registry, token), the address, a hash of the
ABI it was deployed with and the keccak of the runtime code found at the address right after
deployment. A file is used only while all of that still
matches the node: the same chain id, the same code at every address, and ABIs equal to the ones
compiled now. Anything else is refused with a sentence saying what differs.

``deployments/data-<chain_id>.json`` describes the data-sharing contracts (attestation
registry, consent registry, attestation policy): the chain id, the deployment block and the
three addresses. It is used only on its chain and while every address holds code.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3

from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.errors import DeploymentError, DeploymentMismatch

__all__ = [
    "DATA_ROLES",
    "DEPLOYMENTS_DIR",
    "ContractEntry",
    "DataDeployment",
    "Deployment",
    "abi_hash",
    "data_path",
    "default_path",
    "entry_for",
    "read_data_deployment",
    "read_deployment",
    "verify_data_deployment",
    "verify_deployment",
    "write_data_deployment",
    "write_deployment",
]

DEPLOYMENTS_DIR = Path("deployments")
FORMAT_VERSION = 1
ROLES = ("ledger", "credit_registry", "token")
DATA_ROLES = ("attestation_registry", "consent_registry", "attestation_policy")


def abi_hash(abi: list[dict[str, Any]]) -> str:
    """sha256 of the ABI in canonical JSON."""
    return "0x" + hashlib.sha256(json.dumps(abi, sort_keys=True).encode()).hexdigest()


def code_hash(w3: Web3, address: ChecksumAddress) -> str | None:
    """keccak of the runtime code at ``address``, None where there is no code."""
    code = bytes(w3.eth.get_code(address))
    return Web3.keccak(code).to_0x_hex() if code else None


@dataclass(frozen=True)
class ContractEntry:
    contract: str
    address: ChecksumAddress
    abi_hash: str
    code_hash: str


@dataclass(frozen=True)
class DataDeployment:
    """One chain's deployment of the data-sharing contracts."""

    chain_id: int
    block: int
    attestation_registry: ChecksumAddress
    consent_registry: ChecksumAddress
    attestation_policy: ChecksumAddress

    def addresses(self) -> dict[str, str]:
        return {name: str(getattr(self, name)) for name in DATA_ROLES}

    def to_json(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "block": self.block, **self.addresses()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DataDeployment:
        """Raises KeyError or ValueError for a document that is not a data deployment."""
        return cls(
            chain_id=int(data["chain_id"]),
            block=int(data.get("block", 0)),
            **{name: Web3.to_checksum_address(data[name]) for name in DATA_ROLES},
        )


@dataclass(frozen=True)
class Deployment:
    """One chain's deployment of the system."""

    chain_id: int
    block: int
    deployer: ChecksumAddress
    ledger: ContractEntry
    credit_registry: ContractEntry
    token: ContractEntry
    test_token: bool
    """True when the token is the TestStablecoin deployed with the system (mintable)."""
    data: DataDeployment | None = None
    """The data-sharing contracts deployed with the system, if any (kept in their own file)."""

    def entries(self) -> dict[str, ContractEntry]:
        return {"ledger": self.ledger, "credit_registry": self.credit_registry, "token": self.token}

    def to_json(self) -> dict[str, Any]:
        document = asdict(replace(self, data=None))
        del document["data"]
        return {"format": FORMAT_VERSION, **document}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        entries = {
            role: ContractEntry(
                contract=str(data[role]["contract"]),
                address=Web3.to_checksum_address(data[role]["address"]),
                abi_hash=str(data[role]["abi_hash"]),
                code_hash=str(data[role]["code_hash"]),
            )
            for role in ROLES
        }
        return cls(
            chain_id=int(data["chain_id"]),
            block=int(data["block"]),
            deployer=Web3.to_checksum_address(data["deployer"]),
            ledger=entries["ledger"],
            credit_registry=entries["credit_registry"],
            token=entries["token"],
            test_token=bool(data["test_token"]),
        )


def default_path(chain_id: int, directory: Path | None = None) -> Path:
    return (directory or DEPLOYMENTS_DIR) / f"{chain_id}.json"


def entry_for(w3: Web3, artifact: ContractArtifact, address: ChecksumAddress) -> ContractEntry:
    """A file entry for a contract just deployed at ``address``."""
    found = code_hash(w3, address)
    if found is None:
        raise DeploymentMismatch(f"There is no code at {address} for {artifact.name}.")
    return ContractEntry(artifact.name, address, abi_hash(artifact.abi), found)


def read_deployment(path: Path) -> Deployment:
    try:
        data = json.loads(path.read_text(encoding="utf8"))
        return Deployment.from_json(data)
    except FileNotFoundError:
        raise DeploymentMismatch(
            f"No deployment file at {path}; run `loanservicing deploy` first."
        ) from None
    except OSError as exc:
        raise DeploymentMismatch(f"The deployment file {path} cannot be read ({exc}).") from None
    except (ValueError, KeyError, TypeError):
        raise DeploymentMismatch(
            f"The deployment file {path} is not a loanservicing deployment file."
        ) from None


def write_deployment(path: Path, deployment: Deployment) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(deployment.to_json(), indent=2) + "\n", encoding="utf8")
    tmp.replace(path)


def verify_deployment(
    w3: Web3,
    deployment: Deployment,
    artifacts: dict[str, ContractArtifact] | None,
    path: Path | str = "the deployment file",
) -> None:
    """Raise DeploymentMismatch unless ``deployment`` describes what is on this node."""
    chain_id = int(w3.eth.chain_id)
    if deployment.chain_id != chain_id:
        raise DeploymentMismatch(
            f"The deployment file {path} is for chain id {deployment.chain_id}, but the node "
            f"is chain {chain_id}; pass the file for this chain with --deployment, or deploy."
        )
    for role, entry in deployment.entries().items():
        found = code_hash(w3, entry.address)
        if found is None:
            raise DeploymentMismatch(
                f"The deployment file {path} puts the {role.replace('_', ' ')} at "
                f"{entry.address}, but the node has no code there (a restarted dev chain?); "
                f"run `loanservicing deploy --fresh`."
            )
        if found != entry.code_hash:
            raise DeploymentMismatch(
                f"The code at {entry.address} is not the {entry.contract} recorded in {path}; "
                f"run `loanservicing deploy --fresh`."
            )
        artifact = (artifacts or {}).get(entry.contract)
        if artifact is not None and abi_hash(artifact.abi) != entry.abi_hash:
            raise DeploymentMismatch(
                f"{entry.contract} has changed since the deployment in {path} (its ABI differs); "
                f"run `loanservicing deploy --fresh`."
            )


def data_path(chain_id: int, directory: Path | None = None) -> Path:
    return (directory or DEPLOYMENTS_DIR) / f"data-{chain_id}.json"


def write_data_deployment(path: Path, data: DataDeployment) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data.to_json(), indent=2) + "\n", encoding="utf8")
    tmp.replace(path)


def read_data_deployment(path: Path) -> DataDeployment:
    try:
        document = json.loads(path.read_text(encoding="utf8"))
    except (OSError, ValueError) as exc:
        raise DeploymentError(f"Cannot read the data deployment file {path}: {exc}.") from None
    try:
        return DataDeployment.from_json(document)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise DeploymentError(f"The data deployment lacks a valid address: {exc}.") from None


def verify_data_deployment(w3: Web3, data: DataDeployment, path: Path | str) -> None:
    """Raise DeploymentError unless ``data`` was made for this chain and its addresses hold
    code."""
    chain_id = int(w3.eth.chain_id)
    if data.chain_id != chain_id:
        raise DeploymentError(
            f"The data deployment file {path} is for chain {data.chain_id}, "
            f"but the node is chain {chain_id}."
        )
    for address in data.addresses().values():
        if code_hash(w3, Web3.to_checksum_address(address)) is None:
            raise DeploymentError(
                f"No contract is deployed at {address} on chain {chain_id}; "
                f"the data deployment file {path} is stale."
            )
