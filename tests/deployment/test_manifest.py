from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from web3 import Web3

from loanservicing.deployment.compile import ContractArtifact
from loanservicing.deployment.errors import DeploymentMismatch
from loanservicing.deployment.manifest import (
    Deployment,
    read_deployment,
    verify_deployment,
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
