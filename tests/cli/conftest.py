"""Fixtures of the CLI tests: the session deployment in a file, and a driver of
``loanservicing`` against the session Anvil (each test reverted), whose index is on the
test's store (a SQLite file, or a PostgreSQL schema for the index suites)."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3 import Web3

from loanservicing.chain.node import AnvilNode
from loanservicing.deployment.manifest import Deployment, write_deployment
from tests.cli.driver import Cli
from tests.support.indexing import index_location


@pytest.fixture
def deployment_file(tmp_path: Path, deployment: Deployment) -> Path:
    path = tmp_path / "deployment.json"
    write_deployment(path, deployment)
    return path


@pytest.fixture
def run(anvil: AnvilNode, w3: Web3, deployment_file: Path, tmp_path: Path) -> Cli:
    return Cli(anvil.rpc_url, deployment_file, index_location(tmp_path / "index.db"))
