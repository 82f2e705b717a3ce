"""The portal put together for one deployment: its settings from the servicer (chain id,
token symbol), the app over the indexer's database, the role check, the follower and, when
asked for, the dev-chain sign-in and the data-sharing deployment (the regulator's pages, the
borrower's attestations, consents and access log)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loanservicing.chain.accounts import Signer
from loanservicing.chain.node import is_dev_chain
from loanservicing.deployment.bindings import load_data_deployment
from loanservicing.indexing.sync import Indexer
from loanservicing.monitoring.notices import NoticeStore
from loanservicing.portal.app import create_app
from loanservicing.portal.audit_bundles import AuditDesk
from loanservicing.portal.data_sharing import PortalDataSharing
from loanservicing.portal.dev_sign_in import DevAccounts, dev_accounts
from loanservicing.portal.follower import IndexFollower
from loanservicing.portal.roles import regulator_check, standing_check
from loanservicing.portal.server import PortalServer
from loanservicing.portal.settings import PortalSettings
from loanservicing.portal.token_symbols import TokenSymbols
from loanservicing.servicing.servicer import Servicer
from loanservicing.sharing.audit import AuditSources
from loanservicing.sharing.vault import Vault

__all__ = ["audit_desk", "data_sharing", "portal_server"]


def portal_server(
    servicer: Servicer,
    indexer: Indexer,
    host: str = "127.0.0.1",
    port: int = 8000,
    session_secret: str | None = None,
    dev_sign_in: Iterable[Signer] | None = None,
    data: PortalDataSharing | None = None,
    **settings: Any,
) -> PortalServer:
    """The portal of ``servicer``'s deployment over ``indexer``'s database (kept current by
    ``indexer``); a random session secret unless one is given (sessions then end with the
    process). ``dev_sign_in``: the accounts the dev-chain sign-in offers (refused with
    :class:`~loanservicing.portal.errors.DevSignInRefused` off a dev chain or a loopback
    host). ``data`` (see :func:`data_sharing`): the data-sharing deployment, for the
    regulator's pages and the borrower's attestations, consents and access log."""
    NoticeStore(indexer.db)  # the notice tables exist before a page reads them
    config = PortalSettings(
        db_path=indexer.db.path,
        chain_id=int(servicer.w3.eth.chain_id),
        token=servicer.token.address,
        token_symbol=servicer.token_symbol,
        session_secret=session_secret or secrets.token_urlsafe(32),
        **{"first_block": servicer.deployment.block, **settings},
    )
    accounts: DevAccounts | None = None
    if dev_sign_in is not None:
        dev = is_dev_chain(servicer.w3)
        accounts = dev_accounts(dev, host, config.allowed_hosts, dev_sign_in)
    symbols = TokenSymbols(servicer.w3, {servicer.token.address: servicer.token_symbol})
    audit = audit_desk(servicer, data) if data is not None else None
    regulators = regulator_check(data.consents() if data is not None else None)
    app = create_app(config, standing_check(servicer), symbols, accounts, regulators, data, audit)
    return PortalServer(app, IndexFollower(indexer), host, port)


def data_sharing(
    servicer: Servicer, data_deployment: Path, bundles_dir: Path, vault_dir: Path | None = None
) -> PortalDataSharing:
    """The data-sharing deployment of file ``data_deployment`` on ``servicer``'s chain, the
    vault in ``vault_dir`` (``vault.db`` and ``keys/keys.db``, as the data commands keep it;
    None: no vault log on the borrower page), audit bundles kept in ``bundles_dir``."""
    contracts = load_data_deployment(data_deployment, servicer.w3, servicer.artifacts)
    vault = None
    if vault_dir is not None:
        vault = Vault(vault_dir / "vault.db", vault_dir / "keys" / "keys.db")
    return PortalDataSharing(servicer.w3, contracts, servicer.decoder, bundles_dir, vault)


def audit_desk(servicer: Servicer, data: PortalDataSharing) -> AuditDesk:
    """The regulator's audit bundles of ``servicer``'s ledger and credit registry and the
    data-sharing registries of ``data``, kept in ``data.bundles_dir``."""
    sources = AuditSources(
        servicer.ledger,
        servicer.registry,
        data.contracts.attestation_registry,
        data.contracts.consent_registry,
    )
    return AuditDesk(servicer.w3, sources, data.bundles_dir)
