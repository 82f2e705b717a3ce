"""Deploy the servicing contracts: credit registry, loan ledger and (on dev chains) a stablecoin.

``deploy_contracts`` sends the deployments from a node-managed account and wires the roles:
the ledger becomes a reporter of the registry; the admin also gets the originator and
servicer roles so that one dev account can run a whole demo.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.accounts import TransactionSender
from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import send
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.manifest import Deployment, entry_for
from loanservicing.errors import LoanServicingError

__all__ = [
    "DeployedContracts",
    "deploy_contract",
    "deploy_contracts",
    "deploy_system",
    "revert_decoder",
    "role",
]

ORIGINATOR_ROLE = "ORIGINATOR_ROLE"
SERVICER_ROLE = "SERVICER_ROLE"
REPORTER_ROLE = "REPORTER_ROLE"


def role(name: str) -> bytes:
    """The bytes32 id of an AccessControl role (the admin role is all zeros)."""
    if name == "DEFAULT_ADMIN_ROLE":
        return b"\x00" * 32
    return bytes(Web3.keccak(text=name))


def revert_decoder(artifacts: dict[str, ContractArtifact]) -> RevertDecoder:
    """A decoder that knows every error of every compiled contract (OpenZeppelin's too)."""
    return RevertDecoder(a.abi for a in artifacts.values())


@dataclass(frozen=True)
class DeployedContracts:
    """The deployed system, as web3 contract objects."""

    ledger: Contract
    credit_registry: Contract
    token: Contract | None
    block: int


def deploy_contract(
    w3: Web3,
    artifact: ContractArtifact,
    sender: ChecksumAddress,
    decoder: RevertDecoder,
    *args: Any,
) -> Contract:
    """Deploy one contract and return it bound to its address."""
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = send(w3, factory.constructor(*args), sender, decoder, f"Deploying {artifact.name}")
    address = receipt["contractAddress"]
    if address is None:
        raise LoanServicingError(f"Deploying {artifact.name} produced no contract address.")
    return w3.eth.contract(address=address, abi=artifact.abi)


def deploy_contracts(
    w3: Web3,
    artifacts: dict[str, ContractArtifact],
    admin: ChecksumAddress,
    with_token: bool = True,
    token_decimals: int = 6,
) -> DeployedContracts:
    """Deploy registry and ledger (and a test stablecoin), and grant the roles."""
    decoder = revert_decoder(artifacts)
    first_block = w3.eth.block_number + 1
    registry = deploy_contract(w3, artifacts["CreditRegistry"], admin, decoder, admin)
    ledger = deploy_contract(w3, artifacts["LoanLedger"], admin, decoder, admin, registry.address)
    send(w3, registry.functions.grantRole(role(REPORTER_ROLE), ledger.address), admin, decoder)
    send(w3, ledger.functions.grantRole(role(ORIGINATOR_ROLE), admin), admin, decoder)
    send(w3, ledger.functions.grantRole(role(SERVICER_ROLE), admin), admin, decoder)
    token = None
    if with_token:
        symbol = "tUSDC" if token_decimals == 6 else f"tUSD{token_decimals}"
        token = deploy_contract(
            w3,
            artifacts["TestStablecoin"],
            admin,
            decoder,
            f"Test USD ({token_decimals} decimals)",
            symbol,
            token_decimals,
            admin,
        )
    return DeployedContracts(ledger, registry, token, first_block)


def deploy_system(
    sender: TransactionSender,
    artifacts: dict[str, ContractArtifact],
    token: ChecksumAddress | None = None,
    token_decimals: int = 6,
) -> Deployment:
    """Deploy registry, ledger and (when ``token`` is None) a TestStablecoin from a locally
    signing account, grant the roles as ``deploy_contracts`` does, and describe the result."""
    w3 = sender.w3
    admin = sender.address
    first_block = int(w3.eth.block_number) + 1

    def create(name: str, *args: Any) -> ChecksumAddress:
        artifact = artifacts[name]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = sender.deploy(factory.constructor(*args), f"Deploying {name}")
        address = receipt["contractAddress"]
        if address is None:
            raise LoanServicingError(f"Deploying {name} produced no contract address.")
        return Web3.to_checksum_address(address)

    registry_address = create("CreditRegistry", admin)
    ledger_address = create("LoanLedger", admin, registry_address)
    registry = w3.eth.contract(address=registry_address, abi=artifacts["CreditRegistry"].abi)
    ledger = w3.eth.contract(address=ledger_address, abi=artifacts["LoanLedger"].abi)
    sender.send(registry.functions.grantRole(role(REPORTER_ROLE), ledger_address), "Granting")
    sender.send(ledger.functions.grantRole(role(ORIGINATOR_ROLE), admin), "Granting")
    sender.send(ledger.functions.grantRole(role(SERVICER_ROLE), admin), "Granting")
    test_token = token is None
    if token is None:
        symbol = "tUSDC" if token_decimals == 6 else f"tUSD{token_decimals}"
        token = create(
            "TestStablecoin", f"Test USD ({token_decimals} decimals)", symbol, token_decimals, admin
        )
    token_artifact = artifacts["TestStablecoin"]
    token_entry = entry_for(w3, token_artifact, token)
    if not test_token:
        token_entry = replace(token_entry, contract="ERC20")
    return Deployment(
        chain_id=sender.chain_id,
        block=first_block,
        deployer=admin,
        ledger=entry_for(w3, artifacts["LoanLedger"], ledger_address),
        credit_registry=entry_for(w3, artifacts["CreditRegistry"], registry_address),
        token=token_entry,
        test_token=test_token,
    )
