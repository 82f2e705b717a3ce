"""What the data-sharing side holds about a borrower, as tables with a sentence per figure:
the attestations about them (their types and issuers, never the documents), the consents they
gave, and every access to their data from the vault's log. The registries are read from the
chain (the event index holds the servicing contracts only); the log from the vault."""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from loanservicing.portal.data_sharing import PortalDataSharing
from loanservicing.portal.loan_tables import day
from loanservicing.portal.tables import Table
from loanservicing.sharing.attestations import ATTESTER_KINDS, claim_type_label
from loanservicing.sharing.consent import category_names

__all__ = ["access_log_table", "attestations_table", "consents_table", "erased"]

_KIND_NAMES = {number: name for name, number in ATTESTER_KINDS.items()}
_ACTIONS = {
    "store": "a document was stored",
    "read": "a read was asked for",
    "regulator-read": "a regulator's read was asked for",
    "erase": "your data was erased",
}


def attestations_table(data: PortalDataSharing, borrower: str, now: int) -> Table:
    registry = data.contracts.attestation_registry
    client = data.attestations()
    subject = to_checksum_address(borrower)
    logs = registry.events.AttestationSubmitted().get_logs(
        from_block=data.contracts.block, argument_filters={"subject": subject}
    )
    rows = []
    for log in logs:
        record = client.get(int(log["args"]["attestationId"]))
        kind = int(registry.functions.attester(record.attester).call()[0])
        if record.revoked:
            status = f"revoked on {day(record.revoked_at)}"
        elif record.valid_until < now:
            status = "expired"
        else:
            status = "valid"
        rows.append(
            [
                str(record.attestation_id),
                claim_type_label(record.claim_type),
                _KIND_NAMES.get(kind, f"kind {kind}"),
                record.attester,
                day(record.issued_at),
                day(record.valid_until),
                status,
            ]
        )
    return Table(
        "attestations",
        "Attestations about you",
        ["#", "type", "issuer", "issuer's address", "issued", "valid until", "status"],
        rows,
        numeric=frozenset({0}),
    )


def consents_table(data: PortalDataSharing, borrower: str, now: int) -> Table:
    rows = []
    for grant in data.consents().grants(to_checksum_address(borrower)):
        if grant.categories == 0:
            status = "revoked"
        elif grant.expires_at < now:
            status = "expired"
        else:
            status = "in force"
        rows.append(
            [
                grant.viewer,
                ", ".join(category_names(grant.categories)) or "none",
                day(grant.granted_at),
                day(grant.expires_at),
                status,
            ]
        )
    return Table(
        "consents",
        "Consents you gave",
        ["who may read", "what", "granted", "until", "status"],
        rows,
    )


def access_log_table(data: PortalDataSharing, borrower: str) -> Table:
    entries = [] if data.vault is None else data.vault.log_entries(to_checksum_address(borrower))
    return Table(
        "access-log",
        "Every access to your data",
        ["#", "when", "what happened", "by", "data", "decision", "detail"],
        [
            [
                str(e.seq),
                day(e.chain_time),
                _ACTIONS.get(e.action, e.action),
                e.actor,
                "all" if e.category == "*" else e.category,
                e.decision,
                e.detail,
            ]
            for e in entries
        ],
        numeric=frozenset({0}),
    )


def erased(data: PortalDataSharing, borrower: str) -> bool:
    return data.vault is not None and data.vault.is_erased(to_checksum_address(borrower))
