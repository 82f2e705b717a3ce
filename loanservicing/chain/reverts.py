"""Decode a revert into its Solidity custom error name and arguments.

A revert reaches Python as raw bytes (a 4-byte selector and ABI-encoded arguments). Here it is
matched against every ``error`` in the project's ABIs, plus ``Error(string)`` and
``Panic(uint256)``, and turned into a :class:`TransactionReverted` whose message reads like
``LoanNotActive(loanId=7, status=2)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.address import is_address, to_checksum_address
from eth_utils.conversions import to_bytes
from web3.exceptions import ContractCustomError, ContractLogicError, ContractPanicError

from loanservicing.chain.abi import ROLE_NAMES
from loanservicing.chain.errors import TransactionReverted

__all__ = ["DecodedRevert", "RevertDecoder", "TransactionReverted", "canonical_type"]

_STANDARD_ERRORS: list[dict[str, Any]] = [
    {"type": "error", "name": "Error", "inputs": [{"name": "message", "type": "string"}]},
    {"type": "error", "name": "Panic", "inputs": [{"name": "code", "type": "uint256"}]},
]


def canonical_type(item: Mapping[str, Any]) -> str:
    """ABI type of a parameter as it appears in a signature (tuples expanded)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


@dataclass(frozen=True)
class DecodedRevert:
    """A revert matched to a Solidity error."""

    name: str
    args: dict[str, Any]

    def __str__(self) -> str:
        inner = ", ".join(f"{k}={_show(v)}" for k, v in self.args.items())
        return f"{self.name}({inner})"


def _show(value: Any) -> str:
    """An error argument as a person reads it: a role by its name, an address checksummed."""
    if isinstance(value, bytes):
        return ROLE_NAMES.get(value, "0x" + value.hex())
    if isinstance(value, str) and is_address(value):
        return to_checksum_address(value)
    return str(value)


class RevertDecoder:
    """Matches revert data against the errors declared in a set of ABIs."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]]) -> None:
        self._errors: dict[bytes, dict[str, Any]] = {}
        for abi in [*abis, _STANDARD_ERRORS]:
            for item in abi:
                if item.get("type") != "error":
                    continue
                types = ",".join(canonical_type(i) for i in item["inputs"])
                selector = function_signature_to_4byte_selector(f"{item['name']}({types})")
                self._errors[selector] = item

    def decode(self, data: bytes) -> DecodedRevert | None:
        """The error these revert bytes encode, or None if no known error matches."""
        if len(data) < 4:
            return None
        item = self._errors.get(data[:4])
        if item is None:
            return None
        types = [canonical_type(i) for i in item["inputs"]]
        try:
            values = abi_decode(types, data[4:])
        except Exception:  # malformed payload: report it as unknown rather than crash
            return None
        names = [i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])]
        return DecodedRevert(item["name"], dict(zip(names, values, strict=True)))

    def from_exception(self, exc: BaseException, action: str = "") -> TransactionReverted | None:
        """A TransactionReverted for a web3 revert exception, else None."""
        if not isinstance(exc, ContractCustomError | ContractPanicError | ContractLogicError):
            return None
        raw = _revert_bytes(getattr(exc, "data", None))
        return TransactionReverted(self.decode(raw), raw, action)


def _revert_bytes(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return to_bytes(hexstr=data)
        except ValueError:
            return b""
    if isinstance(data, Mapping):
        return _revert_bytes(data.get("data"))
    return b""
