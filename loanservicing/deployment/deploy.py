"""Deploy the contracts: the one path every deployment takes (the CLI, the demos, the
benchmarks and the tests).

``deploy_system`` deploys the servicing core from a locally signing account and wires the
roles: the ledger becomes a reporter of the credit registry; the admin also gets the
originator and servicer roles so that one dev account can run a whole demo. On request it
deploys the data-sharing contracts too (``deploy_data_sharing``: attestation registry, consent
registry, attestation policy; the regulator role; optionally the policy as the ledger's
origination policy). Every contract is created by ``deploy_contract``.

The ledger calls external libraries for its rarely used paths (LoanOrigination, LoanDefaults,
LoanRestructuring, LoanTokens, ...): ``deploy_contract`` deploys the libraries a contract calls
first and writes their addresses over the placeholders in its bytecode
(``ContractArtifact.linked_bytecode``). A token is lent in only once the ledger's admin allowed
it (``setTokenAllowed``): ``deploy_system`` allows the deployment's token.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.abi import (
    ORIGINATOR_ROLE,
    REGULATOR_ROLE,
    REPORTER_ROLE,
    SERVICER_ROLE,
    role,
)
from loanservicing.chain.accounts import TransactionSender
from loanservicing.deployment.compile import ContractArtifact, load_artifact
from loanservicing.deployment.errors import DeploymentError
from loanservicing.deployment.manifest import DataDeployment, Deployment, entry_for

__all__ = [
    "deploy_contract",
    "deploy_data_sharing",
    "deploy_libraries",
    "deploy_system",
]


def deploy_contract(
    sender: TransactionSender,
    artifact: ContractArtifact,
    *args: Any,
    libraries: Mapping[str, ChecksumAddress] | None = None,
    artifacts: Mapping[str, ContractArtifact] | None = None,
) -> Contract:
    """Deploy one contract from ``sender`` and return it bound to its address.

    A contract that calls external libraries is linked against ``libraries`` (name to
    address); the ones it calls that ``libraries`` lacks are deployed first, from
    ``artifacts`` (default: this repository's compiled contracts)."""
    linked = deploy_libraries(sender, artifact, libraries, artifacts)
    w3 = sender.w3
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.linked_bytecode(linked))
    receipt = sender.deploy(factory.constructor(*args), f"Deploying {artifact.name}")
    address = receipt["contractAddress"]
    if address is None:
        raise DeploymentError(f"Deploying {artifact.name} produced no contract address.")
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)


def deploy_libraries(
    sender: TransactionSender,
    artifact: ContractArtifact,
    libraries: Mapping[str, ChecksumAddress] | None = None,
    artifacts: Mapping[str, ContractArtifact] | None = None,
) -> dict[str, ChecksumAddress]:
    """Deploy from ``sender`` the external libraries ``artifact`` calls that ``libraries``
    lacks (none for most contracts), their artifacts taken from ``artifacts`` (default: this
    repository's compiled contracts); returns the address of every library, by name."""
    linked = dict(libraries or {})
    for name in artifact.libraries:
        if name not in linked:
            library = load_artifact(name) if artifacts is None else artifacts[name]
            linked[name] = deploy_contract(
                sender, library, libraries=linked, artifacts=artifacts
            ).address
    return linked


def deploy_system(
    sender: TransactionSender,
    artifacts: dict[str, ContractArtifact],
    token: ChecksumAddress | None = None,
    token_decimals: int = 6,
    data_sharing: bool = False,
    regulators: Iterable[ChecksumAddress] = (),
    token_contract: str = "TestStablecoin",
) -> Deployment:
    """Deploy registry, ledger and (when ``token`` is None) a test token with
    ``token_decimals`` decimals, allow loans in the token, grant the roles, and describe the
    result.

    The test token is ``token_contract``: the TestStablecoin, or the BlocklistStablecoin whose
    owner can block addresses (as USDC's issuer can). With ``data_sharing`` the data-sharing
    contracts follow (``deploy_data_sharing``, with ``regulators``); the returned deployment
    then carries them in ``data``."""
    w3 = sender.w3
    admin = sender.address
    first_block = int(w3.eth.block_number) + 1
    registry = deploy_contract(sender, artifacts["CreditRegistry"], admin)
    ledger = deploy_contract(
        sender, artifacts["LoanLedger"], admin, registry.address, artifacts=artifacts
    )
    sender.send(registry.functions.grantRole(role(REPORTER_ROLE), ledger.address), "Granting")
    sender.send(ledger.functions.grantRole(role(ORIGINATOR_ROLE), admin), "Granting")
    sender.send(ledger.functions.grantRole(role(SERVICER_ROLE), admin), "Granting")
    test_token = token is None
    if token is None:
        symbol = "tUSDC" if token_decimals == 6 else f"tUSD{token_decimals}"
        name = f"Test USD ({token_decimals} decimals)"
        stablecoin = artifacts[token_contract]
        token = deploy_contract(sender, stablecoin, name, symbol, token_decimals, admin).address
    sender.send(ledger.functions.setTokenAllowed(token, True), "Allowing the loan token")
    token_entry = entry_for(w3, artifacts[token_contract], token)
    if not test_token:
        token_entry = replace(token_entry, contract="ERC20")
    data = deploy_data_sharing(sender, artifacts, regulators) if data_sharing else None
    return Deployment(
        chain_id=sender.chain_id,
        block=first_block,
        deployer=admin,
        ledger=entry_for(w3, artifacts["LoanLedger"], ledger.address),
        credit_registry=entry_for(w3, artifacts["CreditRegistry"], registry.address),
        token=token_entry,
        test_token=test_token,
        data=data,
    )


def deploy_data_sharing(
    sender: TransactionSender,
    artifacts: dict[str, ContractArtifact],
    regulators: Iterable[ChecksumAddress] = (),
    ledger: ChecksumAddress | None = None,
    set_policy: bool = False,
) -> DataDeployment:
    """Deploy the attestation registry, consent registry and attestation policy from
    ``sender`` (their admin); grant REGULATOR_ROLE to ``regulators``; when ``set_policy``,
    make the policy the origination policy of ``ledger`` (``sender`` must be its admin)."""
    if set_policy and ledger is None:
        raise DeploymentError("Setting the origination policy needs the ledger's address.")
    w3 = sender.w3
    admin = sender.address
    first_block = int(w3.eth.block_number) + 1
    attestations = deploy_contract(sender, artifacts["AttestationRegistry"], admin)
    consents = deploy_contract(sender, artifacts["ConsentRegistry"], admin)
    policy = deploy_contract(sender, artifacts["AttestationPolicy"], admin, attestations.address)
    for regulator in regulators:
        fn = consents.functions.grantRole(role(REGULATOR_ROLE), regulator)
        sender.send(fn, "Granting the regulator role")
    if set_policy and ledger is not None:
        bound = w3.eth.contract(address=ledger, abi=artifacts["LoanLedger"].abi)
        fn = bound.functions.setOriginationPolicy(policy.address)
        sender.send(fn, "Setting the ledger's origination policy")
    return DataDeployment(
        chain_id=sender.chain_id,
        block=first_block,
        attestation_registry=attestations.address,
        consent_registry=consents.address,
        attestation_policy=policy.address,
    )
