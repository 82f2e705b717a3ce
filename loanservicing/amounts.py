"""Amounts, rates, durations and dates as people type and read them.

Amounts stay ``int`` in the token's smallest unit everywhere inside the package; this module is
the edge where ``"1250.50"`` becomes ``1250500000`` (6 decimals) and back, exactly, through
``Decimal`` and never through float.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from loanservicing.errors import LoanServicingError

__all__ = [
    "InvalidInput",
    "exact",
    "format_amount",
    "format_money",
    "iso_date",
    "money",
    "parse_amount",
    "parse_date",
    "parse_duration",
    "parse_percent_bps",
    "rate",
    "share",
]

_DECIMAL = re.compile(r"^\d+(\.\d+)?$|^\.\d+$")
_DURATION = re.compile(r"^(\d+)(d|h|min|s|)$")
_UNIT_SECONDS = {"d": 86_400, "h": 3_600, "min": 60, "s": 1, "": 1}


class InvalidInput(LoanServicingError):
    """A value typed by a person cannot be used (malformed, negative, too precise...)."""


def parse_amount(text: str, decimals: int, what: str = "amount") -> int:
    """Parse a positive decimal like ``1250.50`` into smallest units of a token with ``decimals``.

    Rejects negatives, zero, NaN, infinities, exponents, thousands separators and more fraction
    digits than the token has; the conversion is exact.
    """
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise InvalidInput(f"The {what} {text!r} is negative; give a positive amount.")
    if not _DECIMAL.match(cleaned):
        raise InvalidInput(f"The {what} {text!r} is not a plain decimal number such as 1250.50.")
    whole, _, fraction = cleaned.partition(".")
    fraction = fraction.rstrip("0")
    if len(fraction) > decimals:
        raise InvalidInput(
            f"The {what} {text!r} has more than {decimals} decimal places, "
            f"the precision of the token."
        )
    # Integer arithmetic on the digits: exact at any size (Decimal would round at 28 digits).
    units: int = int(whole or "0") * 10**decimals + int(fraction.ljust(decimals, "0") or "0")
    if units == 0:
        raise InvalidInput(f"The {what} must be greater than zero, not {text!r}.")
    return units


def format_amount(units: int, decimals: int) -> str:
    """Smallest units as a decimal string with every significant digit (no float rounding)."""
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**decimals)
    if decimals == 0:
        return f"{sign}{whole}"
    digits = str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{sign}{whole}.{digits}" if digits else f"{sign}{whole}"


def format_money(units: int, decimals: int) -> str:
    """Smallest units as a statement shows them: two decimals (fewer when the token has
    fewer), rounded half up, with thousands separators (``1,580.17``). Exact integers stay in
    the JSON; this is for people."""
    places = min(decimals, 2)
    value = (Decimal(units) / (Decimal(10) ** decimals)).quantize(
        Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP
    )
    return f"{value:,.{places}f}"


def money(units: int | None, decimals: int, symbol: str = "") -> str:
    """Units for people, as every command and page prints them: two decimals rounded half up,
    with thousands separators and the token's symbol (``1,000.00 tUSDC``; no symbol in a table
    column whose header names it); blank for None. The JSON keeps the exact integers."""
    if units is None:
        return ""
    text = format_money(units, decimals)
    return f"{text} {symbol}" if symbol else text


def exact(units: int | None, decimals: int) -> str | None:
    """Units as an exact decimal string with all the token's decimals (``887.720000``), as
    CSV files carry them; None stays None."""
    if units is None:
        return None
    sign = "-" if units < 0 else ""
    whole, fraction = divmod(abs(units), 10**decimals)
    return f"{sign}{whole}.{fraction:0{decimals}d}" if decimals else f"{sign}{whole}"


def rate(bps: int) -> str:
    """A rate or share in basis points as everything prints it: ``18.78 %``."""
    sign = "-" if bps < 0 else ""
    whole, fraction = divmod(abs(bps), 100)
    return f"{sign}{whole}.{fraction:02d} %"


def share(fraction: Decimal) -> str:
    """A fraction (PAR30 0.1878) as :func:`rate` prints it (``18.78 %``), rounded half up."""
    bps = (Decimal(fraction) * 10_000).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return rate(int(bps))


def parse_percent_bps(text: str, what: str = "rate", allow_zero: bool = True) -> int:
    """A percentage like ``12`` or ``7.25`` as basis points (725); at most two decimals."""
    cleaned = text.strip()
    if cleaned.startswith("-"):
        raise InvalidInput(f"The {what} {text!r} is negative.")
    if not _DECIMAL.match(cleaned):
        raise InvalidInput(f"The {what} {text!r} is not a percentage such as 12 or 7.25.")
    if len(cleaned.partition(".")[2].rstrip("0")) > 2:
        raise InvalidInput(
            f"The {what} {text!r} is finer than a basis point (0.01 %); use at most 2 decimals."
        )
    whole, _, fraction = cleaned.partition(".")
    bps = int(whole or "0") * 100 + int(fraction.rstrip("0").ljust(2, "0"))
    if bps == 0 and not allow_zero:
        raise InvalidInput(f"The {what} must be greater than zero.")
    return bps


def parse_duration(text: str, what: str = "duration") -> int:
    """``30d``, ``12h``, ``90min``, ``45s`` or plain seconds, as seconds. ``m`` is refused as
    ambiguous (minutes or months?)."""
    cleaned = text.strip()
    if re.fullmatch(r"\d+[mM]", cleaned):
        raise InvalidInput(
            f"The {what} {text!r} is ambiguous: write minutes as {cleaned[:-1]}min; months are "
            "a calendar frequency (--frequency monthly)."
        )
    match = _DURATION.match(cleaned.lower())
    if not match:
        raise InvalidInput(
            f"The {what} {text!r} is not a duration such as 30d, 12h, 90min, 45s or 3600."
        )
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def parse_date(text: str, what: str = "date") -> int:
    """An ISO 8601 date or date-time (UTC unless it says otherwise), or unix seconds."""
    cleaned = text.strip()
    if cleaned.isdigit():
        return int(cleaned)
    try:
        moment = datetime.fromisoformat(cleaned.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            f"The {what} {text!r} is neither an ISO 8601 date (2026-01-31, "
            f"2026-01-31T12:00:00Z) nor unix seconds."
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def iso_date(timestamp: int) -> str:
    """Unix seconds as ISO 8601 UTC, e.g. ``2026-01-31T12:00:00Z``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
