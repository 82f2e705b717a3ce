"""Borrower consent on chain: grants, revocations, checks, and regulator access records.

Categories are bits (identity = 1, employment = 2, income = 4, repayment history = 8,
contact = 16); people type them as names (``income,employment``). A grant lasts until its
expiry second inclusive.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.logs import DISCARD

from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import send
from loanservicing.sharing.attestations import CLAIM_CATEGORIES
from loanservicing.sharing.errors import DataSharingError

__all__ = [
    "ConsentClient",
    "ConsentGrant",
    "RegulatorAccess",
    "category_bit",
    "category_names",
    "legal_basis_hash",
    "parse_categories",
]


def category_bit(name: str) -> int:
    """The consent bit of a data category (``income`` -> 4); an unknown name is an error."""
    if name not in CLAIM_CATEGORIES:
        known = ", ".join(CLAIM_CATEGORIES)
        raise DataSharingError(f"Unknown data category {name!r}; the categories are: {known}.")
    return CLAIM_CATEGORIES[name]


def parse_categories(text: str) -> int:
    """``income,employment`` -> 6. Unknown names are an error."""
    mask = 0
    for name in (part.strip() for part in text.split(",")):
        if name:
            mask |= category_bit(name)
    if mask == 0:
        raise DataSharingError("Name at least one data category.")
    return mask


def category_names(mask: int) -> list[str]:
    return [name for name, bit in CLAIM_CATEGORIES.items() if mask & bit]


def legal_basis_hash(legal_basis: str) -> bytes:
    """keccak256 of the stated legal basis's UTF-8 text (what goes on chain)."""
    if not legal_basis.strip():
        raise DataSharingError("A regulator access needs a stated legal basis.")
    return bytes(Web3.keccak(text=legal_basis))


@dataclass(frozen=True)
class ConsentGrant:
    borrower: ChecksumAddress
    viewer: ChecksumAddress
    categories: int
    granted_at: int
    expires_at: int


@dataclass(frozen=True)
class RegulatorAccess:
    access_id: int
    regulator: ChecksumAddress
    borrower: ChecksumAddress
    categories: int
    legal_basis_hash: bytes
    tx_hash: HexBytes
    block_number: int


class ConsentClient:
    """Reads and writes the consent registry."""

    def __init__(self, w3: Web3, registry: Contract, decoder: RevertDecoder) -> None:
        self.w3 = w3
        self.registry = registry
        self.decoder = decoder

    def grant(
        self, borrower: ChecksumAddress, viewer: ChecksumAddress, categories: int, until: int
    ) -> HexBytes:
        fn = self.registry.functions.grantConsent(viewer, categories, until)
        receipt = send(self.w3, fn, borrower, self.decoder, "Granting consent")
        return HexBytes(receipt["transactionHash"])

    def revoke(self, borrower: ChecksumAddress, viewer: ChecksumAddress) -> HexBytes:
        fn = self.registry.functions.revokeConsent(viewer)
        receipt = send(self.w3, fn, borrower, self.decoder, "Revoking consent")
        return HexBytes(receipt["transactionHash"])

    def has_consent(
        self, borrower: ChecksumAddress, viewer: ChecksumAddress, categories: int
    ) -> bool:
        return bool(self.registry.functions.hasConsent(borrower, viewer, categories).call())

    def is_regulator(self, account: ChecksumAddress) -> bool:
        """Whether ``account`` holds the registry's regulator role now (the role id is the
        registry's own ``REGULATOR_ROLE``)."""
        regulator_role = self.registry.functions.REGULATOR_ROLE().call()
        return bool(self.registry.functions.hasRole(regulator_role, account).call())

    def current(self, borrower: ChecksumAddress, viewer: ChecksumAddress) -> ConsentGrant:
        categories, granted_at, expires_at = self.registry.functions.consent(
            borrower, viewer
        ).call()
        return ConsentGrant(borrower, viewer, int(categories), int(granted_at), int(expires_at))

    def grants(self, borrower: ChecksumAddress) -> list[ConsentGrant]:
        """Every viewer the borrower ever granted to, with the grant in force now (revoked
        ones have categories 0; expired ones keep theirs and an expiry in the past)."""
        logs = self.registry.events.ConsentGranted().get_logs(
            from_block=0, argument_filters={"borrower": borrower}
        )
        viewers = list(
            dict.fromkeys(Web3.to_checksum_address(log["args"]["viewer"]) for log in logs)
        )
        return [self.current(borrower, viewer) for viewer in viewers]

    def record_regulator_access(
        self, regulator: ChecksumAddress, borrower: ChecksumAddress, categories: int, basis: str
    ) -> RegulatorAccess:
        fn = self.registry.functions.recordRegulatorAccess(
            borrower, categories, legal_basis_hash(basis)
        )
        receipt = send(self.w3, fn, regulator, self.decoder, "Recording the regulator access")
        (event,) = self.registry.events.RegulatorAccessed().process_receipt(receipt, errors=DISCARD)
        return self._access(event)

    def regulator_access(self, tx_hash: HexBytes | str) -> RegulatorAccess | None:
        """The RegulatorAccessed record made by transaction ``tx_hash`` on this registry."""
        receipt = self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        events = [
            e
            for e in self.registry.events.RegulatorAccessed().process_receipt(
                receipt, errors=DISCARD
            )
            if e["address"] == self.registry.address
        ]
        return self._access(events[0]) if events else None

    @staticmethod
    def _access(event: object) -> RegulatorAccess:
        e = event  # an EventData
        args = e["args"]  # type: ignore[index]
        return RegulatorAccess(
            int(args["accessId"]),
            Web3.to_checksum_address(args["regulator"]),
            Web3.to_checksum_address(args["borrower"]),
            int(args["categories"]),
            bytes(args["legalBasisHash"]),
            HexBytes(e["transactionHash"]),  # type: ignore[index]
            int(e["blockNumber"]),  # type: ignore[index]
        )
