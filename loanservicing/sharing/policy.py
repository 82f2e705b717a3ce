"""A lender's origination requirements in the attestation policy: the claim types a borrower
must hold valid attestations of, and the attesters trusted for them (the lender's own, and the
floor a policy admin set beside them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from loanservicing.chain.reverts import RevertDecoder
from loanservicing.chain.transactions import send
from loanservicing.sharing.attestations import claim_type_id, claim_type_label
from loanservicing.sharing.errors import DataSharingError

__all__ = ["PolicyClient", "Requirements"]


@dataclass(frozen=True)
class Requirements:
    """Claim types required (labels) and the attesters trusted for them."""

    claim_types: tuple[str, ...]
    attesters: tuple[ChecksumAddress, ...]

    def to_json(self) -> dict[str, Any]:
        return {"claim_types": list(self.claim_types), "attesters": list(self.attesters)}


class PolicyClient:
    """Reads and sets lenders' requirements in one attestation policy."""

    def __init__(self, w3: Web3, policy: Contract, decoder: RevertDecoder) -> None:
        self.w3 = w3
        self.policy = policy
        self.decoder = decoder

    def requirements(self, lender: ChecksumAddress) -> Requirements:
        """The lender's own requirements."""
        return _read(self.policy.functions.requirements(lender).call())

    def floor(self, lender: ChecksumAddress) -> Requirements:
        """The requirements a policy admin set for the lender (it cannot lift them)."""
        return _read(self.policy.functions.floor(lender).call())

    def require(
        self, lender: ChecksumAddress, claim_types: Sequence[str], attesters: Sequence[str]
    ) -> HexBytes:
        """As ``lender``, replace its requirements (no claim types: lift them)."""
        types, trusted = _checked(claim_types, attesters)
        fn = self.policy.functions.setRequirements(lender, types, trusted)
        receipt = send(self.w3, fn, lender, self.decoder, "Setting the lender's requirements")
        return HexBytes(receipt["transactionHash"])

    def set_floor(
        self,
        admin: ChecksumAddress,
        lender: ChecksumAddress,
        claim_types: Sequence[str],
        attesters: Sequence[str],
    ) -> HexBytes:
        """As a policy admin, replace the lender's floor (no claim types: lift it)."""
        types, trusted = _checked(claim_types, attesters)
        fn = self.policy.functions.setFloor(lender, types, trusted)
        receipt = send(self.w3, fn, admin, self.decoder, "Setting the lender's floor")
        return HexBytes(receipt["transactionHash"])


def _checked(
    claim_types: Sequence[str], attesters: Sequence[str]
) -> tuple[list[bytes], list[ChecksumAddress]]:
    if claim_types and not attesters:
        raise DataSharingError(
            "Name at least one trusted attester for the claim types required (--attester)."
        )
    if len(set(claim_types)) != len(claim_types):
        raise DataSharingError("Each claim type is required once.")
    return [claim_type_id(t) for t in claim_types], [Web3.to_checksum_address(a) for a in attesters]


def _read(raw: Any) -> Requirements:
    types, attesters = raw
    return Requirements(
        tuple(claim_type_label(bytes(t)) for t in types),
        tuple(Web3.to_checksum_address(a) for a in attesters),
    )
