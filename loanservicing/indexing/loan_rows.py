"""A loan's row in the index's ``loans`` table, and the state a row describes.

The columns are ``LoanState``'s fields in their order (amounts as decimal text, which holds
any uint256), then the principal outstanding and the block the row was written at, so that a
row read back builds a state positionally, the enums' members looked up by value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loanservicing.indexing.connection import Row
from loanservicing.ledger.calendar import DayCount
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LoanState, LoanStatus

__all__ = ["LOAN_COLUMNS", "LOAN_FIELDS", "LOAN_SELECT", "loan_from_row", "loan_row"]

_AMOUNT_FIELDS = frozenset(
    {
        "principal",
        "base_principal",
        "paid_principal",
        "paid_interest",
        "fees",
        "penalty",
        "carried",
        "advance",
        "total_paid",
    }
)
LOAN_FIELDS = tuple(LoanState.__dataclass_fields__)
LOAN_COLUMNS = (*LOAN_FIELDS, "principal_outstanding", "updated_block")
LOAN_SELECT = ", ".join(LOAN_FIELDS)
"""The loan columns in the order of ``LoanState``'s fields: a row of them builds a state
positionally (:func:`loan_from_row`)."""
_LOAN_AMOUNTS = tuple(i for i, name in enumerate(LOAN_FIELDS) if name in _AMOUNT_FIELDS)
_LOAN_FLAGS = tuple(LOAN_FIELDS.index(name) for name in ("closed_after_default", "advance_pending"))
_LOAN_ENUMS: tuple[tuple[int, type[ScheduleKind | LoanStatus | DayCount]], ...] = tuple(
    (LOAN_FIELDS.index(name), enum)
    for name, enum in (("kind", ScheduleKind), ("status", LoanStatus), ("day_count", DayCount))
)
_ENUM_MEMBERS = {enum: {int(m): m for m in enum} for _, enum in _LOAN_ENUMS}


def loan_row(state: LoanState, block: int) -> tuple[Any, ...]:
    """The row of :data:`LOAN_COLUMNS` for ``state``, written at ``block``."""
    values: list[Any] = []
    for name in LOAN_FIELDS:
        value = getattr(state, name)
        if name in _AMOUNT_FIELDS:
            value = str(value)
        elif isinstance(value, bool) or not isinstance(value, str):
            value = int(value)
        values.append(value)
    values.append(str(state.principal_outstanding))
    values.append(block)
    return tuple(values)


def loan_from_row(row: Row | Sequence[Any]) -> LoanState:
    """The state a row of :data:`LOAN_SELECT`'s columns describes, built positionally (no
    dictionary a row; the enums' members looked up by value)."""
    values = list(row)
    for i in _LOAN_AMOUNTS:
        values[i] = int(values[i])
    for i in _LOAN_FLAGS:
        values[i] = bool(values[i])
    for i, enum in _LOAN_ENUMS:
        value = values[i]
        member = _ENUM_MEMBERS[enum].get(value)
        values[i] = enum(int(value)) if member is None else member
    return LoanState(*values)
