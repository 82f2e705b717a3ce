"""Sign-In with Ethereum (EIP-4361), verified with the ``siwe`` package: single-use, expiring
nonces, and a message bound to this portal's host, origin and chain.

The page asks for a nonce (the session remembers which one it was given), builds the message,
has the wallet sign it (``personal_sign``) and posts both. :func:`verify_sign_in` takes the
nonce out of the book first, so a message can be tried once: a replay finds no nonce.
"""

from __future__ import annotations

import secrets
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta

from eth_utils.address import to_checksum_address

from loanservicing.portal.errors import SignInRefused

# siwe's grammar redefines RFC 5234's core rules, which abnf warns about once, at import.
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from siwe import SiweMessage, VerificationError

__all__ = ["NonceBook", "verify_sign_in"]

_CLOCK_SKEW = timedelta(seconds=60)


class NonceBook:
    """Nonces handed out and not used yet, each valid for ``ttl`` seconds."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._expiry: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        nonce = secrets.token_hex(16)
        now = time.monotonic()
        with self._lock:
            self._expiry = {n: t for n, t in self._expiry.items() if t > now}
            self._expiry[nonce] = now + self.ttl
        return nonce

    def take(self, nonce: str) -> bool:
        """Use ``nonce`` up: True when it was handed out, is unused and has not expired."""
        with self._lock:
            expiry = self._expiry.pop(nonce, None)
        return expiry is not None and expiry > time.monotonic()


def verify_sign_in(
    message: str,
    signature: str,
    *,
    domain: str,
    origin: str,
    chain_id: int,
    session_nonce: str | None,
    nonces: NonceBook,
) -> str:
    """The checksummed address that signed ``message``, or :class:`SignInRefused`.

    The message must be EIP-4361 text for ``domain`` (the request's host) with a URI on
    ``origin``, for chain ``chain_id``, carrying the nonce this session was given, unused and
    unexpired, issued no longer ago than the nonce lives, and signed by its address."""
    try:
        parsed = SiweMessage.from_message(message)
    except Exception:  # the grammar's and pydantic's errors alike
        raise SignInRefused("The sign-in message is not an EIP-4361 message.") from None
    if session_nonce is None or parsed.nonce != session_nonce:
        raise SignInRefused("The sign-in message does not carry the nonce this page was given.")
    if not nonces.take(parsed.nonce):
        raise SignInRefused("The sign-in nonce was used already or has expired; sign in again.")
    if parsed.domain != domain:
        raise SignInRefused(f"The sign-in message is for {parsed.domain}, not {domain}.")
    if not (parsed.uri == origin or parsed.uri.startswith(origin + "/")):
        raise SignInRefused(f"The sign-in message's URI is not on {origin}.")
    if int(parsed.chain_id) != chain_id:
        raise SignInRefused(f"The sign-in message is for chain {parsed.chain_id}, not {chain_id}.")
    issued = datetime.fromisoformat(str(parsed.issued_at).replace("Z", "+00:00"))
    now = datetime.now(UTC)
    if issued > now + _CLOCK_SKEW or issued < now - timedelta(seconds=nonces.ttl) - _CLOCK_SKEW:
        raise SignInRefused("The sign-in message was not issued just now; sign in again.")
    try:
        parsed.verify(signature, domain=domain, nonce=session_nonce)
    except VerificationError as exc:
        reason = type(exc).__name__
        raise SignInRefused(f"The sign-in signature does not verify ({reason}).") from None
    except Exception:
        raise SignInRefused("The sign-in signature is malformed.") from None
    return str(to_checksum_address(parsed.address))
