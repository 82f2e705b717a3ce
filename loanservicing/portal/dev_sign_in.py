"""The dev-chain sign-in: on a dev chain, and served on a loopback address only, the sign-in
page offers accounts whose keys the portal holds (the node's dev accounts, the demo's lender,
fund and borrowers) and signs the Sign-In with Ethereum message for the chosen one itself, so
someone can browse a demo without a wallet. The message then goes through the same
verification as a wallet's (nonce, domain, URI, chain, time, signature).

It exists only when the portal is started with it (``serve --dev-sign-in``, ``demo
--serve``), and :func:`dev_accounts` refuses to make it for any other chain or host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from eth_account.messages import encode_defunct
from eth_utils.address import to_checksum_address

from loanservicing.chain.accounts import Signer, dev_signer
from loanservicing.portal.errors import DevSignInRefused

__all__ = [
    "DEV_ACCOUNTS",
    "DevAccount",
    "DevAccounts",
    "check_loopback",
    "dev_accounts",
    "node_dev_signers",
]

DEV_ACCOUNTS = 10
"""How many of the node's dev accounts (the test mnemonic's first ones) are offered."""
_STATEMENT = "Sign in to the loan servicing portal."
_LOOPBACK_NAMES = ("localhost",)


@dataclass(frozen=True)
class DevAccount:
    address: str
    label: str


class DevAccounts:
    """The accounts offered, by address, and the keys that sign for them."""

    def __init__(self, signers: Iterable[Signer]) -> None:
        self._signers: dict[str, Signer] = {}
        for signer in signers:
            self._signers.setdefault(signer.address.lower(), signer)

    @property
    def offered(self) -> list[DevAccount]:
        return [DevAccount(s.address, s.label) for s in self._signers.values()]

    def signer(self, address: str) -> Signer:
        signer = self._signers.get(address.lower())
        if signer is None:
            raise DevSignInRefused(f"{address} is not one of this dev chain's sign-in accounts.")
        return signer

    def sign_in_message(
        self, address: str, domain: str, origin: str, chain_id: int, nonce: str, ttl: float
    ) -> tuple[str, str]:
        """The EIP-4361 message a wallet would build on the sign-in page, and its signature by
        ``address``'s key (``personal_sign``)."""
        signer = self.signer(address)
        issued = datetime.now(UTC)
        expires = issued + timedelta(seconds=ttl)
        message = (
            f"{domain} wants you to sign in with your Ethereum account:\n"
            f"{to_checksum_address(signer.address)}\n\n{_STATEMENT}\n\n"
            f"URI: {origin}/\nVersion: 1\nChain ID: {chain_id}\nNonce: {nonce}\n"
            f"Issued At: {_iso(issued)}\nExpiration Time: {_iso(expires)}"
        )
        signed = signer.local_account().sign_message(encode_defunct(text=message))
        return message, "0x" + bytes(signed.signature).hex()


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _is_loopback(host: str) -> bool:
    name = host.strip("[]")
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_loopback(*names: str) -> None:
    """Refuse the dev sign-in unless every one of ``names`` (the address the portal listens on,
    the host names it answers to) is a loopback address or ``localhost``."""
    for name in names:
        if not _is_loopback(name):
            raise DevSignInRefused(
                f"The dev sign-in is for a portal on this machine only, and {name or 'every'} "
                "is not a loopback address; serve it on 127.0.0.1 (or drop the dev sign-in)."
            )


def node_dev_signers(count: int = DEV_ACCOUNTS) -> list[Signer]:
    """The node's dev accounts 0 to ``count - 1`` (Anvil's and Hardhat's test mnemonic)."""
    return [dev_signer(i) for i in range(count)]


def dev_accounts(
    dev_chain: bool, host: str, allowed_hosts: Sequence[str], signers: Iterable[Signer]
) -> DevAccounts:
    """The dev sign-in's accounts, refused (:class:`DevSignInRefused`) unless the chain is a
    dev chain and the portal is on a loopback address."""
    if not dev_chain:
        raise DevSignInRefused(
            "The dev sign-in signs with the dev chain's public test keys, and this chain is "
            "not a dev chain (Anvil, Hardhat); sign in with a wallet instead."
        )
    check_loopback(host, *allowed_hosts)
    return DevAccounts(signers)
