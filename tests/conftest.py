"""Shared fixtures: one Anvil per test session (per xdist worker), compiled artifacts, and
an evm_snapshot/evm_revert around every test that touches the chain."""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

# pyproject's filterwarnings = error would turn this import-time warning (web3 7 imports
# websockets.legacy for its legacy provider) into a collection error; silence just that one.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="websockets.legacy is deprecated", category=DeprecationWarning
    )
    import web3  # noqa: F401
from eth_typing import ChecksumAddress
from web3 import HTTPProvider, Web3

from loanservicing.chain.node import RPC_TIMEOUT_S, AnvilNode, revert, snapshot
from loanservicing.deployment.compile import ContractArtifact, compile_contracts
from loanservicing.deployment.solc import install_solc_facade
from loanservicing.paths import NODE_BIN
from tests.support.indexing import STORE_SUITES, STORES

# Fixtures shared across test folders, declared once.
pytest_plugins = [
    "tests.support.indexing",
    "tests.support.ledger_driver",
    "tests.support.servicing",
    "tests.support.data",
]


TESTS = Path(__file__).resolve().parent
APE_SUITE = TESTS / "ape"
APE_NETWORK = "ethereum:local:foundry"


def _under_ape_test(config: pytest.Config) -> bool:
    """True in `ape test` (ape's CLI running pytest with its plugin), False in plain pytest."""
    return config.pluginmanager.has_plugin("ape_test") and Path(sys.argv[0]).name == "ape"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """`ape test` typed at the project root runs the ape suite on ape-foundry with this
    checkout's toolchain: the pinned Anvil (ape-foundry looks on PATH only) and solc (the
    facade in SOLCX_DIR, found by ape-solidity through SOLCX_BINARY_PATH)."""
    if not _under_ape_test(config):
        return
    if config.getoption("network", None) is None:
        config.option.network = APE_NETWORK
    os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.setdefault("SOLCX_BINARY_PATH", str(install_solc_facade().parent))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """tests/ape needs ape's pytest plugin and is all that `ape test` runs (make ape-test);
    the rest is plain pytest's (make test)."""
    in_ape_suite = collection_path.resolve().is_relative_to(APE_SUITE)
    if _under_ape_test(config):
        if not in_ape_suite and not APE_SUITE.is_relative_to(collection_path.resolve()):
            return True
        return None
    if in_ape_suite:
        return True
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The indexer, monitor and index-CLI suites run once per store: SQLite, and PostgreSQL
    (skipped, saying how to enable it, unless LOANSERVICING_TEST_DATABASE_URL is set)."""
    where = Path(metafunc.definition.path).resolve().relative_to(TESTS.parent).as_posix()
    if "index_store" in metafunc.fixturenames and where.startswith(STORE_SUITES):
        metafunc.parametrize("index_store", STORES, indirect=True)


@pytest.fixture(scope="session")
def anvil() -> Iterator[AnvilNode]:
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
def w3(anvil: AnvilNode) -> Web3:
    web3 = Web3(HTTPProvider(anvil.rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_S}))
    assert web3.is_connected()
    return web3


@pytest.fixture(scope="session")
def artifacts() -> dict[str, ContractArtifact]:
    # compile_contracts holds a file lock, so xdist workers never compile concurrently,
    # and all but the first find the cache up to date.
    return compile_contracts()


@pytest.fixture
def accounts(w3: Web3) -> list[ChecksumAddress]:
    return list(w3.eth.accounts)


@pytest.fixture(autouse=True)
def _isolated_chain(request: pytest.FixtureRequest) -> Iterator[None]:
    """Revert every chain change a test makes, as ape does; for every test that uses the
    session's Anvil (directly, through w3, or through a fixture built on them)."""
    if "w3" not in request.fixturenames and "anvil" not in request.fixturenames:
        yield
        return
    web3: Web3 = request.getfixturevalue("w3")
    snapshot_id = snapshot(web3)
    yield
    revert(web3, snapshot_id)
