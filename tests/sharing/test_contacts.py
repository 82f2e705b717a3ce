"""The ``contact`` category: a borrower's e-mail address in the vault, read by the servicer
with consent covering ``contact`` only."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanservicing.sharing.attestations import CLAIM_CATEGORIES
from loanservicing.sharing.consent import category_names, parse_categories
from loanservicing.sharing.contacts import ContactBook, contact_document, email_of
from loanservicing.sharing.errors import AccessDenied, DataSharingError
from loanservicing.sharing.vault import Vault
from tests.support.data import BORROWER, DAY, LENDER, DataEnv


def test_contact_is_bit_16_and_the_registry_accepts_every_category(data: DataEnv) -> None:
    assert CLAIM_CATEGORIES["contact"] == 16 == parse_categories("contact")
    assert category_names(31) == list(CLAIM_CATEGORIES)
    assert data.consent_registry.functions.ALL_CATEGORIES().call() == 31
    assert data.consent_registry.functions.CONTACT().call() == 16
    borrower, lender = data.address(BORROWER), data.address(LENDER)
    data.consents.grant(borrower, lender, 31, data.now() + DAY)
    assert data.consents.has_consent(borrower, lender, 16)


def test_contact_documents_hold_one_valid_address() -> None:
    assert contact_document(" marta@example.org ") == {"email": "marta@example.org"}
    for bad in ("marta", "marta@localhost", "a@b.org\r\nBcc: x@y.org", "a@b.org, c@d.org", ""):
        with pytest.raises(DataSharingError, match="not an e-mail address"):
            contact_document(bad)
    with pytest.raises(DataSharingError, match="holds no valid e-mail address") as info:
        email_of({"email": "marta@"}, "0xB0")
    assert "marta" not in str(info.value)
    with pytest.raises(DataSharingError):
        email_of(["marta@example.org"], "0xB0")


def test_the_servicer_reads_the_address_only_with_consent_covering_contact(
    tmp_path: Path, data: DataEnv
) -> None:
    vault = Vault(tmp_path / "vault.db", tmp_path / "keys" / "keys.db", data.consents)
    borrower, lender = data.address(BORROWER), data.address(LENDER)
    vault.store(borrower, "contact", contact_document("marta@example.org"))
    book = ContactBook(vault, data.keys[LENDER])
    data.consents.grant(borrower, lender, parse_categories("income,identity"), data.now() + DAY)
    with pytest.raises(AccessDenied, match="to read contact data"):
        book.email(borrower)
    data.consents.grant(borrower, lender, parse_categories("contact"), data.now() + DAY)
    assert book.email(borrower) == "marta@example.org"
    assert [(e.category, e.decision) for e in vault.log_entries(borrower)] == [
        ("contact", "done"),
        ("contact", "refused"),
        ("contact", "granted"),
    ]
