"""The borrower's identity for a Metro 2 base segment, read from the personal-data vault as
the credit bureau.

The identity is the borrower's newest ``identity`` document in the vault
(:data:`IDENTITY_CATEGORY`), a JSON object with these keys (all optional but a name):

==================  ===============================================================
key                 Metro 2 field
==================  ===============================================================
``surname``         surname (32); with ``first_name`` (33), ``middle_name`` (34) and
                    ``generation_code`` (35: J, S, 2..9)
``name``            when there is no ``surname``: the full name, its first word the first
                    name, its last word the surname, the words between the middle name
``ssn``             social security number (36): nine digits (dashes and blanks dropped)
``date_of_birth``   date of birth (37), ISO 8601 ``YYYY-MM-DD``
``telephone``       telephone number (38): its last ten digits
``address_line_1``  first line of address (42); ``address`` (one line of text) when absent
``address_line_2``  second line of address (43)
``city``            city (44); ``state`` (45, two letters); ``postal_code`` (46)
``country_code``    country code (41, ISO 3166-1 alpha-2)
==================  ===============================================================

A key that is absent (such as the sample people's ``national_id``, which is not an SSN) leaves
its field blank or zero-filled, as the format prescribes for data a furnisher does not hold.

Each read is a request signed by the bureau's key (:func:`loanservicing.sharing.vault.
sign_access_request`, called by the caller: monitoring holds no keys). The vault grants it
only under the borrower's on-chain consent to the bureau for ``identity`` data, and logs it,
granted or refused. An erased borrower's data is not asked for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from loanservicing.sharing.errors import AccessDenied, DocumentErased, DocumentNotFound
from loanservicing.sharing.vault import AccessRequest, Vault

__all__ = [
    "ERASED",
    "IDENTITY_CATEGORY",
    "LEFT_OUT_REASONS",
    "NO_CONSENT",
    "NO_IDENTITY",
    "BorrowerIdentity",
    "read_identities",
]

IDENTITY_CATEGORY = "identity"

NO_CONSENT = "no-consent"
ERASED = "erased"
NO_IDENTITY = "no-identity"
LEFT_OUT_REASONS = {
    NO_CONSENT: "no consent of the borrower to the bureau covers identity data",
    ERASED: "the borrower's personal data was erased",
    NO_IDENTITY: "the vault holds no identity document with a name for the borrower",
}
"""Why a borrower's accounts are left out of the file, by reason code."""


@dataclass(frozen=True)
class BorrowerIdentity:
    """The identity fields of a base segment (text as stored; Metro 2 formatting is done when
    the record is written)."""

    surname: str
    first_name: str = ""
    middle_name: str = ""
    generation_code: str = ""
    ssn: str = ""
    """Nine digits, or empty."""
    date_of_birth: dt.date | None = None
    telephone: str = ""
    """Ten digits, or empty."""
    country_code: str = ""
    address_line_1: str = ""
    address_line_2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> BorrowerIdentity | None:
        """The identity an ``identity`` document describes; None without a name."""

        def text(key: str) -> str:
            value = document.get(key)
            return "" if value is None else " ".join(str(value).split())

        surname, first, middle = text("surname"), text("first_name"), text("middle_name")
        if not surname:
            words = text("name").split()
            if not words:
                return None
            surname = words[-1]
            first = first or (words[0] if len(words) > 1 else "")
            middle = middle or " ".join(words[1:-1])
        ssn = re.sub(r"[\s-]", "", text("ssn"))
        phone = re.sub(r"\D", "", text("telephone"))[-10:]
        try:
            born = dt.date.fromisoformat(text("date_of_birth")) if text("date_of_birth") else None
        except ValueError:
            born = None
        return cls(
            surname=surname,
            first_name=first,
            middle_name=middle,
            generation_code=text("generation_code")[:1],
            ssn=ssn if re.fullmatch(r"\d{9}", ssn) else "",
            date_of_birth=born,
            telephone=phone if len(phone) == 10 else "",
            country_code=text("country_code")[:2],
            address_line_1=text("address_line_1") or text("address"),
            address_line_2=text("address_line_2"),
            city=text("city"),
            state=text("state")[:2],
            postal_code=re.sub(r"[\s-]", "", text("postal_code")),
        )


def read_identities(
    vault: Vault, request_for: Callable[[str], AccessRequest], borrowers: Iterable[str]
) -> dict[str, BorrowerIdentity | str]:
    """Each borrower's identity read through ``vault`` with the request ``request_for``
    returns for it (the bureau's, signed, for :data:`IDENTITY_CATEGORY`), or the reason code
    it is left out (:data:`LEFT_OUT_REASONS`)."""
    found: dict[str, BorrowerIdentity | str] = {}
    for borrower in sorted(set(borrowers)):
        subject = Web3.to_checksum_address(borrower)
        if vault.is_erased(subject):
            found[borrower] = ERASED
            continue
        try:
            document = vault.read(request_for(subject))
        except AccessDenied:
            found[borrower] = NO_CONSENT
            continue
        except DocumentErased:
            found[borrower] = ERASED
            continue
        except DocumentNotFound:
            found[borrower] = NO_IDENTITY
            continue
        identity = BorrowerIdentity.from_document(document) if isinstance(document, dict) else None
        found[borrower] = identity if identity is not None else NO_IDENTITY
    return found
