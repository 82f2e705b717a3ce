"""Small facts read from contract ABIs: role ids, the field names of struct outputs, structs
as dicts.

web3 returns a function's struct output (``loan(id)``, ``creditRecord(borrower)``) as a plain
tuple; :func:`output_fields` names its fields from the ABI, once, so the tuple can be read as a
dict. A struct inside an event comes as a mapping or a tuple depending on the decoder;
:func:`struct_to_dict` accepts both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from eth_utils.crypto import keccak

__all__ = [
    "DEFAULT_ADMIN_ROLE",
    "ORIGINATOR_ROLE",
    "POLICY_ADMIN_ROLE",
    "REGULATOR_ROLE",
    "REPORTER_ROLE",
    "ROLE_NAMES",
    "SERVICER_ROLE",
    "output_fields",
    "role",
    "struct_to_dict",
]

# The AccessControl roles of the contracts (their `*_ROLE` constants).
DEFAULT_ADMIN_ROLE = "DEFAULT_ADMIN_ROLE"
ORIGINATOR_ROLE = "ORIGINATOR_ROLE"
SERVICER_ROLE = "SERVICER_ROLE"
REPORTER_ROLE = "REPORTER_ROLE"
REGULATOR_ROLE = "REGULATOR_ROLE"
POLICY_ADMIN_ROLE = "POLICY_ADMIN_ROLE"


def role(name: str) -> bytes:
    """The bytes32 id of an AccessControl role (the admin role is all zeros)."""
    if name == DEFAULT_ADMIN_ROLE:
        return b"\x00" * 32
    return bytes(keccak(text=name))


def output_fields(abi: Iterable[Mapping[str, Any]], function: str) -> list[str]:
    """The field names of the struct that ``function`` returns (its first output)."""
    for item in abi:
        if item.get("type") == "function" and item.get("name") == function:
            return [str(c["name"]) for c in item["outputs"][0]["components"]]
    raise KeyError(f"The ABI has no function {function}.")


def struct_to_dict(value: Any, fields: Sequence[str]) -> dict[str, Any]:
    """A decoded struct as a dict, whether the decoder gave a mapping or a tuple."""
    if isinstance(value, Mapping):
        return dict(value)
    return dict(zip(fields, value, strict=True))


ROLE_NAMES = {
    role(name): name
    for name in (
        DEFAULT_ADMIN_ROLE,
        ORIGINATOR_ROLE,
        SERVICER_ROLE,
        REPORTER_ROLE,
        REGULATOR_ROLE,
        POLICY_ADMIN_ROLE,
    )
}
"""Each role's name by its bytes32 id, for messages."""
