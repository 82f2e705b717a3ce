"""The portal put together for one deployment: its settings from the servicer (chain id,
token symbol), the app over the indexer's database, the role check, the follower and, when
asked for, the dev-chain sign-in."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from loanservicing.chain.accounts import Signer
from loanservicing.chain.node import is_dev_chain
from loanservicing.indexing.sync import Indexer
from loanservicing.monitoring.notices import NoticeStore
from loanservicing.portal.app import create_app
from loanservicing.portal.dev_sign_in import DevAccounts, dev_accounts
from loanservicing.portal.follower import IndexFollower
from loanservicing.portal.roles import standing_check
from loanservicing.portal.server import PortalServer
from loanservicing.portal.settings import PortalSettings
from loanservicing.portal.token_symbols import TokenSymbols
from loanservicing.servicing.servicer import Servicer

__all__ = ["portal_server"]


def portal_server(
    servicer: Servicer,
    indexer: Indexer,
    host: str = "127.0.0.1",
    port: int = 8000,
    session_secret: str | None = None,
    dev_sign_in: Iterable[Signer] | None = None,
    **settings: Any,
) -> PortalServer:
    """The portal of ``servicer``'s deployment over ``indexer``'s database (kept current by
    ``indexer``); a random session secret unless one is given (sessions then end with the
    process). ``dev_sign_in``: the accounts the dev-chain sign-in offers (refused with
    :class:`~loanservicing.portal.errors.DevSignInRefused` off a dev chain or a loopback
    host)."""
    NoticeStore(indexer.db)  # the notice tables exist before a page reads them
    config = PortalSettings(
        db_path=indexer.db.path,
        chain_id=int(servicer.w3.eth.chain_id),
        token=servicer.token.address,
        token_symbol=servicer.token_symbol,
        session_secret=session_secret or secrets.token_urlsafe(32),
        **settings,
    )
    accounts: DevAccounts | None = None
    if dev_sign_in is not None:
        dev = is_dev_chain(servicer.w3)
        accounts = dev_accounts(dev, host, config.allowed_hosts, dev_sign_in)
    symbols = TokenSymbols(servicer.w3, {servicer.token.address: servicer.token_symbol})
    app = create_app(config, standing_check(servicer), symbols, accounts)
    return PortalServer(app, IndexFollower(indexer), host, port)
