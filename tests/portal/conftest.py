"""Fixtures of the portal tests: portals over the session deployment (a real uvicorn server
on a free port with its index follower), each stopped after its test."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from loanservicing.chain.accounts import Signer
from loanservicing.chain.node import is_dev_chain
from loanservicing.demo.data_sharing import run_data_sharing
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.indexing.database import IndexDB
from loanservicing.indexing.sync import Indexer, IndexerConfig
from loanservicing.monitoring.notices import NoticeStore
from loanservicing.portal.app import create_app
from loanservicing.portal.assembly import audit_desk, portal_server
from loanservicing.portal.data_sharing import PortalDataSharing
from loanservicing.portal.dev_sign_in import dev_accounts
from loanservicing.portal.roles import regulator_check, standing_check
from loanservicing.portal.server import PortalServer
from loanservicing.portal.settings import PortalSettings
from loanservicing.portal.token_symbols import TokenSymbols
from loanservicing.servicing.servicer import Servicer
from loanservicing.sharing.vault import Vault
from tests.portal.portal_driver import SharedData, free_port
from tests.support.ledger_driver import LedgerDriver

# Starlette's TestClient warns, at import, that it would rather run on httpx2 (not installed).
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

SCREENSHOTS_TO = "LOANSERVICING_SCREENSHOTS"
"""A folder named here receives the browser tests' screenshots (``docs/portal`` to refresh
the documentation's); without it they go to a temporary folder and the checkout is left as it
was."""


def make_indexer(system: LedgerDriver, db_path: Path) -> Indexer:
    config = IndexerConfig(
        rpc_url=system.rpc_url,
        ledger=system.ledger.address,
        registry=system.registry.address,
        from_block=system.block,
        poll_interval=0.05,
    )
    return Indexer(config, IndexDB(db_path))


@pytest.fixture
def portal(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], tmp_path: Path
) -> Iterator[Callable[..., PortalServer]]:
    """``portal(**settings)``: a started portal over a new index of ``system``."""
    started: list[PortalServer] = []

    def _start(**settings: Any) -> PortalServer:
        servicer = Servicer(system.w3, system.deployment, artifacts, None)
        indexer = make_indexer(system, tmp_path / f"index-{len(started)}.db")
        server = portal_server(servicer, indexer, port=free_port(), **settings)
        server.start()
        started.append(server)
        return server

    yield _start
    for server in started:
        server.stop()


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    named = os.environ.get(SCREENSHOTS_TO)
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def portal_client(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], tmp_path: Path
) -> Iterator[Callable[..., TestClient]]:
    """``portal_client(**settings)``: a TestClient of the portal app over an index of
    ``system`` synced now (no follower, no server); ``dev_sign_in=signers`` adds the dev-chain
    sign-in, served as ``http://127.0.0.1``."""
    clients: list[TestClient] = []

    def _client(
        dev_sign_in: Sequence[Signer] | None = None,
        data: PortalDataSharing | None = None,
        **settings: Any,
    ) -> TestClient:
        servicer = Servicer(system.w3, system.deployment, artifacts, None)
        host = "testserver" if dev_sign_in is None else "127.0.0.1"
        indexer = make_indexer(system, tmp_path / f"client-{len(clients)}.db")
        indexer.sync()
        NoticeStore(indexer.db)
        config = PortalSettings(
            db_path=indexer.db.path,
            chain_id=int(system.w3.eth.chain_id),
            token=servicer.token.address,
            token_symbol=servicer.token_symbol,
            **{
                "session_secret": "a test secret of the portal",
                "allowed_hosts": (host,),
                **settings,
            },
        )
        indexer.db.close()
        symbols = TokenSymbols(system.w3)
        accounts = None
        if dev_sign_in is not None:
            dev = is_dev_chain(system.w3)
            accounts = dev_accounts(dev, "127.0.0.1", config.allowed_hosts, dev_sign_in)
        regulators = regulator_check(data.consents() if data is not None else None)
        audit = audit_desk(servicer, data) if data is not None else None
        app = create_app(
            config, standing_check(servicer), symbols, accounts, regulators, data, audit
        )
        client = TestClient(app, base_url=f"http://{host}")
        clients.append(client)
        return client

    yield _client
    for client in clients:
        client.close()


@pytest.fixture
def shared_data(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], tmp_path: Path
) -> SharedData:
    """The data-sharing scenario run on the session deployment (accounts 1-3 borrowers with
    attestations, consents to account 0 and vault reads, account 1 erased, account 9 the
    regulator; one loan each from account 0), and the portal's view of it."""
    vault_dir = tmp_path / "vault"
    summary = run_data_sharing(
        system.w3, artifacts, system.ledger, system.token, vault_dir, enforce_policy=False
    )
    vault = Vault(vault_dir / "vault.db", vault_dir / "keys" / "keys.db")
    data = PortalDataSharing(
        system.w3, summary.contracts, system.decoder, tmp_path / "bundles", vault
    )
    return SharedData(summary, data)
