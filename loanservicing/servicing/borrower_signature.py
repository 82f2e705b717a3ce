"""The borrower's consent to a loan: an EIP-712 signature over the terms and the lender.

A loan exists on the ledger only with its borrower's signature (``originate(terms, deadline,
signature)``). The typed data is the ledger's ``Origination`` type (``ORIGINATION_TYPEHASH``
there) in the domain ``LoanLedger`` / ``1`` / chain id / ledger address; the nonce is the
borrower's next one (``nonces(borrower)``). :func:`sign_terms` signs it with a local key (dev
accounts, tests, a borrower's own machine); :class:`SignedTerms` is the file a borrower hands
to the lender (JSON, see :meth:`SignedTerms.to_json`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3

from loanservicing.servicing.errors import InvalidTerms, SignatureFileError

__all__ = [
    "ORIGINATION_FIELDS",
    "SignedTerms",
    "origination_typed_data",
    "sign_terms",
]

DOMAIN_NAME = "LoanLedger"
DOMAIN_VERSION = "1"

ORIGINATION_FIELDS: tuple[tuple[str, str], ...] = (
    ("lender", "address"),
    ("borrower", "address"),
    ("token", "address"),
    ("principal", "uint128"),
    ("aprBps", "uint16"),
    ("installments", "uint16"),
    ("periodSeconds", "uint32"),
    ("firstDueDate", "uint40"),
    ("kind", "uint8"),
    ("gracePeriodSeconds", "uint32"),
    ("lateFeeBps", "uint16"),
    ("penaltyAprBps", "uint16"),
    ("defaultAfterDays", "uint16"),
    ("nonce", "uint256"),
    ("deadline", "uint256"),
)
"""The ``Origination`` type's fields in order: the lender, the ledger's ``OriginationTerms``
fields, the nonce and the deadline."""

_TERMS_FIELDS = [name for name, _ in ORIGINATION_FIELDS[1:-2]]


def origination_typed_data(
    ledger: ChecksumAddress,
    chain_id: int,
    terms: tuple[Any, ...],
    lender: ChecksumAddress,
    nonce: int,
    deadline: int,
) -> dict[str, Any]:
    """The EIP-712 message (``eth_signTypedData_v4`` shape) for ``terms`` (the ledger's
    ``OriginationTerms`` tuple) offered by ``lender``."""
    if len(terms) != len(_TERMS_FIELDS):
        raise InvalidTerms(f"Loan terms need {len(_TERMS_FIELDS)} fields, got {len(terms)}.")
    message: dict[str, Any] = {"lender": lender, "nonce": nonce, "deadline": deadline}
    message.update(zip(_TERMS_FIELDS, (int(v) if isinstance(v, int) else v for v in terms)))
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Origination": [{"name": n, "type": t} for n, t in ORIGINATION_FIELDS],
        },
        "primaryType": "Origination",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": ledger,
        },
        "message": message,
    }


def sign_terms(account: LocalAccount, typed_data: dict[str, Any]) -> bytes:
    """The 65-byte signature of ``account`` over ``typed_data``."""
    if Web3.to_checksum_address(typed_data["message"]["borrower"]) != account.address:
        raise InvalidTerms(
            f"Account {account.address} is not the borrower named in the terms "
            f"({typed_data['message']['borrower']})."
        )
    signed = account.sign_message(encode_typed_data(full_message=typed_data))
    return bytes(signed.signature)


@dataclass(frozen=True)
class SignedTerms:
    """Terms a borrower signed for a lender: what ``originate`` needs besides the role."""

    typed_data: dict[str, Any]
    signature: bytes

    @property
    def terms(self) -> tuple[Any, ...]:
        """The ledger's ``OriginationTerms`` tuple."""
        message = self.typed_data["message"]
        return tuple(message[name] for name in _TERMS_FIELDS)

    @property
    def deadline(self) -> int:
        return int(self.typed_data["message"]["deadline"])

    @property
    def lender(self) -> ChecksumAddress:
        return Web3.to_checksum_address(self.typed_data["message"]["lender"])

    @property
    def borrower(self) -> ChecksumAddress:
        return Web3.to_checksum_address(self.typed_data["message"]["borrower"])

    def to_json(self) -> str:
        return json.dumps(
            {"typedData": self.typed_data, "signature": HexBytes(self.signature).to_0x_hex()},
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SignedTerms:
        try:
            raw = json.loads(text)
            return cls(typed_data=raw["typedData"], signature=bytes(HexBytes(raw["signature"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureFileError(f"Not a signed-terms file: {exc}.") from exc
