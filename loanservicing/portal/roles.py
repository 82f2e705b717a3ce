"""Who is a lender: an address holding the ledger's servicer or admin role, asked of the
contract (``hasRole``) when it signs in."""

from __future__ import annotations

from collections.abc import Callable

from eth_utils.address import to_checksum_address

from loanservicing.chain.abi import DEFAULT_ADMIN_ROLE, SERVICER_ROLE
from loanservicing.servicing.servicer import Servicer

__all__ = ["LENDER_ROLES", "lender_check"]

LENDER_ROLES = (SERVICER_ROLE, DEFAULT_ADMIN_ROLE)


def lender_check(servicer: Servicer) -> Callable[[str], bool]:
    """A function telling whether an address holds one of :data:`LENDER_ROLES`."""

    def is_lender(address: str) -> bool:
        account = to_checksum_address(address)
        return any(servicer.has_role(name, account) for name in LENDER_ROLES)

    return is_lender
