from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3

from loanservicing.chain.abi import role
from loanservicing.chain.accounts import TransactionSender, dev_signer
from loanservicing.deployment.bindings import bind, bind_data, load_data_deployment, revert_decoder
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.deploy import deploy_data_sharing, deploy_system
from loanservicing.deployment.errors import DeploymentError, DeploymentMismatch
from loanservicing.deployment.manifest import (
    Deployment,
    data_path,
    read_data_deployment,
    read_deployment,
    verify_deployment,
    write_data_deployment,
    write_deployment,
)


def test_round_trip_and_verify(
    tmp_path: Path, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    path = tmp_path / "deployments" / "31337.json"
    write_deployment(path, deployment)
    loaded = read_deployment(path)
    assert loaded == deployment
    verify_deployment(w3, loaded, artifacts, path)


def test_refusals(
    tmp_path: Path, w3: Web3, deployment: Deployment, artifacts: dict[str, ContractArtifact]
) -> None:
    with pytest.raises(DeploymentMismatch, match="for chain id 5, but the node is chain 31337"):
        verify_deployment(w3, replace(deployment, chain_id=5), artifacts)
    nowhere = replace(deployment.ledger, address=Web3.to_checksum_address("0x" + "12" * 20))
    with pytest.raises(DeploymentMismatch, match="has no code there"):
        verify_deployment(w3, replace(deployment, ledger=nowhere), artifacts)
    swapped = replace(deployment.ledger, address=deployment.credit_registry.address)
    with pytest.raises(DeploymentMismatch, match="is not the LoanLedger"):
        verify_deployment(w3, replace(deployment, ledger=swapped), artifacts)
    changed = replace(deployment.ledger, abi_hash="0x00")
    with pytest.raises(DeploymentMismatch, match="has changed since the deployment"):
        verify_deployment(w3, replace(deployment, ledger=changed), artifacts)
    with pytest.raises(DeploymentMismatch, match="No deployment file"):
        read_deployment(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DeploymentMismatch, match="not a loanservicing deployment file"):
        read_deployment(tmp_path / "bad.json")


def test_one_deploy_path_deploys_the_data_sharing_contracts_on_request(
    tmp_path: Path, w3: Web3, artifacts: dict[str, ContractArtifact]
) -> None:
    """deploy_system(data_sharing=True) deploys core and data contracts; the data file keeps
    the shape `data deploy` has always written, and reads back into the same contracts."""
    sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    regulator = dev_signer(9).address
    deployment = deploy_system(sender, artifacts, data_sharing=True, regulators=[regulator])
    assert deployment.data is not None
    assert "data" not in deployment.to_json()
    core = bind(w3, deployment, artifacts)
    assert core.ledger.functions.loanCount().call() == 0
    assert core.token.functions.decimals().call() == 6

    path = data_path(deployment.chain_id, tmp_path)
    assert path.name == "data-31337.json"
    write_data_deployment(path, deployment.data)
    document = json.loads(path.read_text())
    assert set(document) == {
        "chain_id",
        "block",
        "attestation_registry",
        "consent_registry",
        "attestation_policy",
    }
    assert document["chain_id"] == 31337
    assert deployment.block < document["block"]
    contracts = load_data_deployment(path, w3, artifacts)
    assert contracts.addresses() == deployment.data.addresses()
    assert contracts.manifest(deployment.chain_id) == deployment.data
    consents = bind_data(w3, deployment.data, artifacts).consent_registry
    assert consents.functions.hasRole(role("REGULATOR_ROLE"), regulator).call()
    assert not consents.functions.hasRole(role("REGULATOR_ROLE"), dev_signer(8).address).call()


def test_a_data_file_from_before_is_read_and_refused_when_stale(
    tmp_path: Path, w3: Web3, artifacts: dict[str, ContractArtifact]
) -> None:
    sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    data = deploy_data_sharing(sender, artifacts)
    # The file as `data deploy` wrote it before deployment files had one module.
    legacy = {"chain_id": 31337, "block": data.block, **data.addresses()}
    path = tmp_path / "data-31337.json"
    path.write_text(json.dumps(legacy, indent=2) + "\n")
    assert read_data_deployment(path) == data
    assert load_data_deployment(path, w3, artifacts).policy.address == data.attestation_policy

    path.write_text(json.dumps({**legacy, "chain_id": 5}))
    with pytest.raises(DeploymentError, match="is for chain 5, but the node is chain 31337"):
        load_data_deployment(path, w3, artifacts)
    nowhere = Web3.to_checksum_address("0x" + "34" * 20)
    path.write_text(json.dumps({**legacy, "consent_registry": nowhere}))
    with pytest.raises(DeploymentError, match=f"No contract is deployed at {nowhere}"):
        load_data_deployment(path, w3, artifacts)
    path.write_text(json.dumps({"chain_id": 31337}))
    with pytest.raises(DeploymentError, match="lacks a valid address"):
        read_data_deployment(path)
    with pytest.raises(DeploymentError, match="Setting the origination policy needs"):
        deploy_data_sharing(sender, artifacts, set_policy=True)


def test_the_deployment_allows_its_token_and_can_lend_a_blocklist_stablecoin(
    tmp_path: Path, w3: Web3, artifacts: dict[str, ContractArtifact]
) -> None:
    """deploy_system allows loans in its token (the ledger refuses any other until its admin
    allows it); its test token may be the BlocklistStablecoin, recorded as such."""
    sender = TransactionSender(w3, dev_signer(0), revert_decoder(artifacts))
    deployment = deploy_system(sender, artifacts, token_contract="BlocklistStablecoin")
    assert deployment.test_token and deployment.token.contract == "BlocklistStablecoin"
    path = tmp_path / "31337.json"
    write_deployment(path, deployment)
    verify_deployment(w3, read_deployment(path), artifacts, path)
    ledger = bind(w3, deployment, artifacts).ledger
    allowed = ledger.events.TokenAllowed().get_logs(from_block=deployment.block)
    assert [(e["args"]["token"], e["args"]["allowed"]) for e in allowed] == [
        (deployment.token.address, True)
    ]
    token = w3.eth.contract(
        address=deployment.token.address, abi=artifacts["BlocklistStablecoin"].abi
    )
    assert token.functions.owner().call() == sender.address
    assert token.functions.blocked(dev_signer(1).address).call() is False
