"""Borrowers' e-mail addresses, read from the vault as the servicer.

An address is personal data, so it lives in the vault as the borrower's ``contact`` document
(``{"email": "..."}``) and is read like every other category: a request signed by the
servicer's key, checked against the borrower's on-chain consent covering ``contact``, and
logged in the vault's access log, refusals included. After an erasure the document cannot be
decrypted any more, so nothing can be sent to that borrower.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.errors import HeaderParseError
from email.headerregistry import Address
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from loanservicing.sharing.errors import InvalidContact
from loanservicing.sharing.vault import Vault, sign_access_request

__all__ = ["CONTACT_CATEGORY", "ContactBook", "contact_document", "email_of"]

CONTACT_CATEGORY = "contact"


def email_of(document: Any, subject: str) -> str:
    """The e-mail address of a ``contact`` document; a sentence (without the document's
    content, which is personal data) when it holds no usable one."""
    email = document.get("email") if isinstance(document, dict) else None
    if not isinstance(email, str) or not _is_address(email):
        raise InvalidContact(f"The contact document of {subject} holds no valid e-mail address.")
    return email.strip()


def contact_document(email: str) -> dict[str, str]:
    """The ``contact`` document to store for ``email`` (checked first)."""
    if not _is_address(email):
        raise InvalidContact("That is not an e-mail address such as name@example.org.")
    return {"email": email.strip()}


def _is_address(text: str) -> bool:
    text = text.strip()
    if not text or any(c in text for c in "\r\n<>,;") or text.count("@") != 1:
        return False
    try:
        address = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError):
        return False
    return bool(address.username) and "." in address.domain


class ContactBook:
    """Looks up borrowers' e-mail addresses in the vault, reading as ``reader`` (the
    servicer). ``chain_time`` dates the signed requests (the vault accepts them within 300 s
    of chain time); by default the latest block's time of the vault's consent registry."""

    def __init__(
        self,
        vault: Vault,
        reader: LocalAccount,
        chain_time: Callable[[], int] | None = None,
    ) -> None:
        self.vault = vault
        self.reader = reader
        self._chain_time = chain_time or self._latest_block_time

    @property
    def reader_address(self) -> str:
        return str(self.reader.address)

    def _latest_block_time(self) -> int:
        if self.vault.consents is None:
            return int(time.time())
        return int(self.vault.consents.w3.eth.get_block("latest")["timestamp"])

    def email(self, borrower: str) -> str:
        """``borrower``'s address. Raises AccessDenied (no consent covering ``contact``),
        DocumentNotFound, DocumentErased, or InvalidContact for a document without a valid
        address; the vault logs each read and each refusal."""
        subject = Web3.to_checksum_address(borrower)
        request = sign_access_request(self.reader, subject, CONTACT_CATEGORY, self._chain_time())
        return email_of(self.vault.read(request), subject)
