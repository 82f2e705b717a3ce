"""Python values at the servicing API's edges: amounts as ``int`` smallest units or ``Decimal``
tokens, rates as percent, periods as ``timedelta`` or a calendar :class:`Frequency`, ids as
``int``. Anything else (a ``float`` above all: it is not exact) is one sentence
(:class:`~loanservicing.amounts.InvalidInput`), not web3's ABI mismatch."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from loanservicing.amounts import InvalidInput, parse_amount, parse_percent_bps
from loanservicing.ledger.calendar import Frequency
from loanservicing.ledger.schedule import DAY

__all__ = [
    "Amount",
    "Rate",
    "amount_units",
    "frequency_of",
    "loan_number",
    "rate_bps",
    "seconds_of",
]

Amount = int | Decimal
"""An amount: an ``int`` of the token's smallest units, or a ``Decimal`` of tokens."""
Rate = Decimal | int | str
"""A yearly rate in percent: ``Decimal("12.5")``, ``12`` or ``"12.5"``."""


def _kind(value: Any) -> str:
    return type(value).__name__


def amount_units(amount: Any, decimals: int, what: str = "amount") -> int:
    """``amount`` in the token's smallest units: an ``int`` as it is, a positive ``Decimal``
    of tokens converted exactly (no more decimal places than the token has)."""
    if isinstance(amount, Decimal):
        if not amount.is_finite():
            raise InvalidInput(f"The {what} {amount} is not a number of tokens.")
        return parse_amount(format(amount, "f"), decimals, what)
    if isinstance(amount, int) and not isinstance(amount, bool):
        return amount  # the caller's own bounds apply
    raise InvalidInput(
        f"The {what} {amount!r} is a {_kind(amount)}: give an int of the token's smallest units "
        f"or a Decimal of tokens such as Decimal('1065.27')"
        + (" (a float is not exact)." if isinstance(amount, float) else ".")
    )


def loan_number(value: Any) -> int:
    """A loan id: an ``int`` (not a bool, a str or a float)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidInput(f"A loan id is an int such as 1, not the {_kind(value)} {value!r}.")


def rate_bps(rate: Any, what: str = "interest rate") -> int:
    """A yearly rate in percent (``Decimal``, ``int`` or ``str``) as basis points."""
    if isinstance(rate, bool) or not isinstance(rate, Decimal | int | str):
        raise InvalidInput(
            f"The {what} {rate!r} is a {_kind(rate)}: give percent as a Decimal, an int or a "
            "str such as '12.5'."
        )
    return parse_percent_bps(format(rate, "f") if isinstance(rate, Decimal) else str(rate), what)


def seconds_of(span: Any, what: str) -> int:
    """A ``timedelta`` of whole seconds as seconds."""
    if not isinstance(span, timedelta):
        raise InvalidInput(
            f"The {what} {span!r} is a {_kind(span)}: give a datetime.timedelta such as "
            "timedelta(days=5)."
        )
    if span.microseconds or span < timedelta(0):
        raise InvalidInput(f"The {what} {span} must be whole seconds, not negative.")
    return int(span.total_seconds())


def frequency_of(every: Any) -> Frequency:
    """A period: a ``timedelta`` of whole days or a calendar :class:`Frequency`."""
    if isinstance(every, Frequency):
        return every
    seconds = seconds_of(every, "period")
    if seconds == 0 or seconds % DAY:
        raise InvalidInput(
            f"The period {every} must be a whole number of days; for calendar months give "
            "Frequency(months=1)."
        )
    return Frequency(days=seconds // DAY)
