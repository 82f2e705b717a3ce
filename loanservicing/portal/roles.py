"""What an address may see, asked of the contract (``hasRole``) when it signs in: the holder of
the ledger's ``SERVICER_ROLE`` (servicing staff) sees every loan; an originator sees the loans
it lends (as does the lender of an indexed loan, which the app checks in the index); anyone
else their own loans as a borrower. A holder of the consent registry's ``REGULATOR_ROLE`` (the
data-sharing deployment's supervisors) also sees the regulator's pages."""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

from eth_utils.address import to_checksum_address

from loanservicing.chain.abi import ORIGINATOR_ROLE, SERVICER_ROLE
from loanservicing.servicing.servicer import Servicer
from loanservicing.sharing.consent import ConsentClient

__all__ = ["Standing", "regulator_check", "standing_check"]


class Standing(Enum):
    """The ledger role an address holds that decides which loans it sees."""

    SERVICER = "servicer"
    """Servicing staff: every loan."""
    ORIGINATOR = "originator"
    """A lender: the loans it lends."""
    NONE = "none"
    """No role: its own loans as a borrower (and those it lends, if any)."""


def standing_check(servicer: Servicer) -> Callable[[str], Standing]:
    """A function giving the :class:`Standing` of an address on ``servicer``'s ledger."""

    def standing_of(address: str) -> Standing:
        account = to_checksum_address(address)
        if servicer.has_role(SERVICER_ROLE, account):
            return Standing.SERVICER
        if servicer.has_role(ORIGINATOR_ROLE, account):
            return Standing.ORIGINATOR
        return Standing.NONE

    return standing_of


def regulator_check(consents: ConsentClient | None) -> Callable[[str], bool]:
    """A function telling whether an address holds the consent registry's regulator role
    (always False without a data-sharing deployment)."""

    def is_regulator(address: str) -> bool:
        return consents is not None and consents.is_regulator(to_checksum_address(address))

    return is_regulator
