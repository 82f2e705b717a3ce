"""The portal put together for one deployment: its settings from the servicer (chain id,
token symbol), the app over the indexer's database, the role check and the follower."""

from __future__ import annotations

import secrets
from typing import Any

from loanservicing.indexing.sync import Indexer
from loanservicing.monitoring.notices import NoticeStore
from loanservicing.portal.app import create_app
from loanservicing.portal.follower import IndexFollower
from loanservicing.portal.roles import lender_check
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
    **settings: Any,
) -> PortalServer:
    """The portal of ``servicer``'s deployment over ``indexer``'s database (kept current by
    ``indexer``); a random session secret unless one is given (sessions then end with the
    process)."""
    NoticeStore(indexer.db)  # the notice tables exist before a page reads them
    config = PortalSettings(
        db_path=indexer.db.path,
        chain_id=int(servicer.w3.eth.chain_id),
        token=servicer.token.address,
        token_symbol=servicer.token_symbol,
        session_secret=session_secret or secrets.token_urlsafe(32),
        **settings,
    )
    symbols = TokenSymbols(servicer.w3, {servicer.token.address: servicer.token_symbol})
    app = create_app(config, lender_check(servicer), symbols)
    return PortalServer(app, IndexFollower(indexer), host, port)
