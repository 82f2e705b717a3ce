"""What the portal needs to know to serve one deployment's index."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PortalSettings"]


@dataclass(frozen=True)
class PortalSettings:
    """The index to read, the chain signed in to, and the session's secret and lifetimes."""

    db_path: str
    chain_id: int
    token: str
    """The deployment's token: the portfolio adds up the loans in it (as ``portfolio``
    does); amounts of different tokens are never added."""
    token_symbol: str
    session_secret: str
    first_block: int = 0
    """The deployment's first block (where an audit bundle's range starts by default)."""
    allowed_hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
    """The host names the portal answers to (a sign-in message must be for one of them)."""
    session_max_age: int = 8 * 3600
    """Seconds a signed-in session lasts (the cookie's signature carries its age)."""
    nonce_ttl: int = 300
    """Seconds a sign-in nonce may be used in, once."""
    live_poll_ms: int = 1000
    """How often an open loan page asks for its live part."""
    https_only: bool = False
    """Send the session cookie over HTTPS only (behind a TLS proxy)."""
