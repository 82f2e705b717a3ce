"""The borrower's consent to a loan: an EIP-712 signature over the terms and the lender.

A loan exists on the ledger only with its borrower's signature (``originate(terms, deadline,
signature)``). The typed data is the ledger's ``Origination`` type (``ORIGINATION_TYPEHASH``
there) in the domain ``LoanLedger`` / ``1`` / chain id / ledger address; the nonce is the
borrower's next one (``nonces(borrower)``). :func:`sign_terms` signs it with a local key (dev
accounts, tests, a borrower's own machine); :class:`SignedTerms` is the file a borrower hands
to the lender (JSON, see :meth:`SignedTerms.to_json`); :class:`TermsSigner` signs many
originations ahead of their mining (bulk submission, the demo, the benchmarks), counting each
borrower's nonces locally.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_keys.exceptions import BadSignature
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.errors import InvalidTerms, SignatureFileError

__all__ = [
    "DEFAULT_VALIDITY",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "ORIGINATION_FIELDS",
    "PLAIN_CALENDAR",
    "TERMS_FIELDS",
    "SignedTerms",
    "TermsSigner",
    "origination_typed_data",
    "sign_terms",
]

DOMAIN_NAME = "LoanLedger"
DOMAIN_VERSION = "1"
DEFAULT_VALIDITY = DAY
"""How long a borrower's signature stays usable unless the borrower says otherwise."""

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
    ("periodMonths", "uint8"),
    ("dayCount", "uint8"),
    ("utcOffsetMinutes", "int16"),
    ("interestOnly", "uint16"),
    ("roundingExp", "uint8"),
    ("nonce", "uint256"),
    ("deadline", "uint256"),
)
"""The ``Origination`` type's fields in order: the lender, the ledger's ``OriginationTerms``
fields, the nonce and the deadline."""

TERMS_FIELDS: tuple[str, ...] = tuple(name for name, _ in ORIGINATION_FIELDS[1:-2])
"""The ledger's ``OriginationTerms`` fields in order (the struct ``LoanOriginated`` carries)."""
PLAIN_CALENDAR: tuple[int, ...] = (0, 0, 0, 0, 0)
"""The last ``OriginationTerms`` fields of a plain loan: a period of days (no calendar months),
actual/365, UTC, no interest-only installments, no rounding."""
_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]


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
    if len(terms) != len(TERMS_FIELDS):
        raise InvalidTerms(f"Loan terms need {len(TERMS_FIELDS)} fields, got {len(terms)}.")
    message: dict[str, Any] = {"lender": lender, "nonce": nonce, "deadline": deadline}
    values = (int(v) if isinstance(v, int) else v for v in terms)
    message.update(zip(TERMS_FIELDS, values, strict=True))
    return {
        "types": {
            "EIP712Domain": list(_DOMAIN_FIELDS),
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
        return tuple(message[name] for name in TERMS_FIELDS)

    @property
    def deadline(self) -> int:
        return int(self.typed_data["message"]["deadline"])

    @property
    def nonce(self) -> int:
        return int(self.typed_data["message"]["nonce"])

    @property
    def lender(self) -> ChecksumAddress:
        return Web3.to_checksum_address(self.typed_data["message"]["lender"])

    @property
    def borrower(self) -> ChecksumAddress:
        return Web3.to_checksum_address(self.typed_data["message"]["borrower"])

    @property
    def token(self) -> ChecksumAddress:
        return Web3.to_checksum_address(self.typed_data["message"]["token"])

    @property
    def principal(self) -> int:
        return int(self.typed_data["message"]["principal"])

    @property
    def chain_id(self) -> int:
        return int(self.typed_data["domain"]["chainId"])

    @property
    def ledger(self) -> ChecksumAddress:
        """The ledger the signature is for (the EIP-712 verifying contract)."""
        return Web3.to_checksum_address(self.typed_data["domain"]["verifyingContract"])

    def _signable(self) -> SignableMessage:
        return encode_typed_data(full_message=self.typed_data)

    def digest(self) -> bytes:
        """The EIP-712 digest the borrower signed (the ledger's ``originationDigest``)."""
        m = self._signable()
        return bytes(keccak(b"\x19" + m.version + m.header + m.body))

    def signer(self) -> ChecksumAddress | None:
        """The account whose ECDSA signature this is (None when it is not one: a contract
        wallet's ERC-1271 signature, or garbage)."""
        try:
            recovered = Account.recover_message(self._signable(), signature=self.signature)
        except (BadSignature, ValidationError, ValueError, TypeError):
            return None
        return Web3.to_checksum_address(recovered)

    def terms_document(self) -> dict[str, Any]:
        """The terms by the ledger's field names (what a person checks before originating)."""
        message = self.typed_data["message"]
        return {name: message[name] for name in TERMS_FIELDS}

    def to_json(self) -> str:
        return json.dumps(
            {"typedData": self.typed_data, "signature": HexBytes(self.signature).to_0x_hex()},
            indent=2,
        )

    @classmethod
    def from_json(cls, text: str) -> SignedTerms:
        """Read a signed-terms file; anything but a well-formed ``Origination`` message of the
        ledger's domain is refused with one sentence."""
        try:
            raw = json.loads(text)
            typed, signature = raw["typedData"], bytes(HexBytes(raw["signature"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise SignatureFileError(f"Not a signed-terms file: {_reason(exc)}.") from None
        return cls(typed_data=_checked_typed_data(typed), signature=signature)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"it has no {exc.args[0]!r}"
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


def _checked_typed_data(typed: Any) -> dict[str, Any]:
    """``typed`` as the ``Origination`` typed data, with integers and checksummed addresses
    (integers may be JSON numbers or decimal strings, as ``eth_signTypedData_v4`` allows)."""
    if not isinstance(typed, Mapping):
        raise SignatureFileError("Not a signed-terms file: its typedData is not an object.")
    expected = [{"name": n, "type": t} for n, t in ORIGINATION_FIELDS]
    types = typed.get("types")
    if (
        typed.get("primaryType") != "Origination"
        or not isinstance(types, Mapping)
        or types.get("Origination") != expected
    ):
        raise SignatureFileError(
            "Not a signed-terms file: its typed data is not the ledger's Origination type."
        )
    domain = typed.get("domain")
    if (
        not isinstance(domain, Mapping)
        or domain.get("name") != DOMAIN_NAME
        or domain.get("version") != DOMAIN_VERSION
    ):
        raise SignatureFileError(
            f"Not a signed-terms file: its domain is not {DOMAIN_NAME!r} version "
            f"{DOMAIN_VERSION!r}."
        )
    message = typed.get("message")
    if not isinstance(message, Mapping):
        raise SignatureFileError("Not a signed-terms file: its message is not an object.")
    checked: dict[str, Any] = {}
    for name, kind in ORIGINATION_FIELDS:
        checked[name] = _field(message, name, kind)
    return {
        "types": {"EIP712Domain": list(_DOMAIN_FIELDS), "Origination": expected},
        "primaryType": "Origination",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": _field(domain, "chainId", "uint256"),
            "verifyingContract": _field(domain, "verifyingContract", "address"),
        },
        "message": checked,
    }


def _field(values: Mapping[str, Any], name: str, kind: str) -> Any:
    if name not in values:
        raise SignatureFileError(f"Not a signed-terms file: the field {name!r} is missing.")
    value = values[name]
    if kind == "address":
        if not isinstance(value, str) or not Web3.is_address(value):
            raise SignatureFileError(
                f"The signed terms' {name} {value!r} is not an Ethereum address."
            )
        return Web3.to_checksum_address(value)
    bits = int(kind[len("uint") :])
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    if number is None or not 0 <= number < 2**bits:
        raise SignatureFileError(f"The signed terms' {name} {value!r} is not a {kind}.")
    return number


class TermsSigner:
    """Borrowers' signatures over many originations on one ledger, signed before any of them
    is mined: each borrower's nonce is read from the ledger's ``nonces`` view once, then
    counted here (send the originations of one borrower in the order they were signed)."""

    def __init__(self, ledger: Contract) -> None:
        self.ledger = ledger
        self.chain_id = int(ledger.w3.eth.chain_id)
        self._next: dict[ChecksumAddress, int] = {}

    def next_nonce(self, borrower: ChecksumAddress) -> int:
        """The nonce the borrower's next signature carries (not yet taken)."""
        nonce = self._next.get(borrower)
        if nonce is None:
            nonce = int(self.ledger.functions.nonces(borrower).call())
            self._next[borrower] = nonce
        return nonce

    def sign(
        self,
        account: LocalAccount,
        terms: tuple[Any, ...],
        lender: ChecksumAddress,
        deadline: int,
    ) -> SignedTerms:
        """``account``'s signature over ``terms`` for ``lender``, with its next nonce."""
        nonce = self.next_nonce(account.address)
        typed = origination_typed_data(
            self.ledger.address, self.chain_id, terms, lender, nonce, deadline
        )
        signature = sign_terms(account, typed)
        self._next[account.address] = nonce + 1
        return SignedTerms(typed, signature)

    def originate(
        self,
        account: LocalAccount,
        terms: tuple[Any, ...],
        lender: ChecksumAddress,
        deadline: int,
    ) -> Any:
        """The ledger's ``originate`` call for ``terms``, signed by ``account`` (a bound
        contract function, for a sender or a bulk submitter)."""
        signed = self.sign(account, terms, lender, deadline)
        return self.ledger.functions.originate(signed.terms, signed.deadline, signed.signature)
