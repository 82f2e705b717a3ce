"""The Metro 2 record layouts (header, 426-character base segment, trailer) and the
formatting of their fields.

The positions and lengths are those of the CDIA *Credit Reporting Resource Guide* (CRRG)
layout of the 426-character fixed-length records, as in the 2020 edition and unchanged since
(the base segment with field 29, the interest type indicator, at position 214). Each field is
``numeric`` (right-justified, zero-filled) or ``alphanumeric`` (left-justified, blank-filled);
dates are MMDDYYYY (zero-filled when there is no date) and the time stamp MMDDYYYYHHMMSS.
Metro 2 text is upper-case ASCII: letters with accents lose them (``Świętojańska`` is
``SWIETOJANSKA``) and other characters become blanks.

The layout tables here are the one definition of the positions: :mod:`loanservicing.
monitoring.metro2` writes records through :func:`render` and the tests read them back
through :func:`parse`.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BASE_SEGMENT",
    "HEADER",
    "RECORD_LENGTH",
    "TRAILER",
    "TRAILER_STATUS_CODES",
    "Field",
    "Metro2FormatError",
    "alphanumeric",
    "ascii_upper",
    "date_field",
    "numeric",
    "parse",
    "render",
    "time_stamp",
]

RECORD_LENGTH = 426
"""Every record of a fixed-length Metro 2 file: header, base segment and trailer."""

Kind = Literal["N", "A"]


class Metro2FormatError(ValueError):
    """A value that does not fit its Metro 2 field (a programming error, not bad input)."""


@dataclass(frozen=True)
class Field:
    """One field: its name (ours, in snake case), CRRG field number, first position (1-based),
    length and kind (``N`` numeric, ``A`` alphanumeric)."""

    name: str
    number: str
    start: int
    length: int
    kind: Kind

    @property
    def end(self) -> int:
        """The last position (1-based, inclusive)."""
        return self.start + self.length - 1


def _layout(rows: Sequence[tuple[str, str, int, Kind]]) -> tuple[Field, ...]:
    """Fields laid end to end from position 1; checks the record is 426 characters."""
    fields: list[Field] = []
    start = 1
    for name, number, length, kind in rows:
        fields.append(Field(name, number, start, length, kind))
        start += length
    if start - 1 != RECORD_LENGTH:
        raise AssertionError(f"layout of {start - 1} characters")
    return tuple(fields)


BASE_SEGMENT = _layout(
    [
        ("record_descriptor_word", "1", 4, "N"),
        ("processing_indicator", "2", 1, "N"),
        ("time_stamp", "3", 14, "N"),
        ("reserved_20", "4", 1, "N"),
        ("identification_number", "5", 20, "A"),
        ("cycle_identifier", "6", 2, "A"),
        ("consumer_account_number", "7", 30, "A"),
        ("portfolio_type", "8", 1, "A"),
        ("account_type", "9", 2, "A"),
        ("date_opened", "10", 8, "N"),
        ("credit_limit", "11", 9, "N"),
        ("highest_credit", "12", 9, "N"),
        ("terms_duration", "13", 3, "A"),
        ("terms_frequency", "14", 1, "A"),
        ("scheduled_monthly_payment", "15", 9, "N"),
        ("actual_payment", "16", 9, "N"),
        ("account_status", "17", 2, "A"),
        ("payment_rating", "18", 1, "A"),
        ("payment_history_profile", "19", 24, "A"),
        ("special_comment", "20", 2, "A"),
        ("compliance_condition_code", "21", 2, "A"),
        ("current_balance", "22", 9, "N"),
        ("amount_past_due", "23", 9, "N"),
        ("original_charge_off_amount", "24", 9, "N"),
        ("date_of_account_information", "25", 8, "N"),
        ("date_of_first_delinquency", "26", 8, "N"),
        ("date_closed", "27", 8, "N"),
        ("date_of_last_payment", "28", 8, "N"),
        ("interest_type_indicator", "29", 1, "A"),
        ("reserved_215", "30", 16, "A"),
        ("consumer_transaction_type", "31", 1, "A"),
        ("surname", "32", 25, "A"),
        ("first_name", "33", 20, "A"),
        ("middle_name", "34", 20, "A"),
        ("generation_code", "35", 1, "A"),
        ("social_security_number", "36", 9, "N"),
        ("date_of_birth", "37", 8, "N"),
        ("telephone_number", "38", 10, "N"),
        ("ecoa_code", "39", 1, "A"),
        ("consumer_information_indicator", "40", 2, "A"),
        ("country_code", "41", 2, "A"),
        ("first_line_of_address", "42", 32, "A"),
        ("second_line_of_address", "43", 32, "A"),
        ("city", "44", 20, "A"),
        ("state", "45", 2, "A"),
        ("postal_code", "46", 9, "A"),
        ("address_indicator", "47", 1, "A"),
        ("residence_code", "48", 1, "A"),
    ]
)
"""The base segment (CRRG fields 1-48)."""

HEADER = _layout(
    [
        ("record_descriptor_word", "1", 4, "N"),
        ("record_identifier", "2", 6, "A"),
        ("cycle_identifier", "3", 2, "A"),
        ("innovis_program_identifier", "4", 10, "A"),
        ("equifax_program_identifier", "5", 10, "A"),
        ("experian_program_identifier", "6", 5, "A"),
        ("transunion_program_identifier", "7", 10, "A"),
        ("activity_date", "8", 8, "N"),
        ("date_created", "9", 8, "N"),
        ("program_date", "10", 8, "N"),
        ("program_revision_date", "11", 8, "N"),
        ("reporter_name", "12", 40, "A"),
        ("reporter_address", "13", 96, "A"),
        ("reporter_telephone_number", "14", 10, "N"),
        ("software_vendor_name", "15", 40, "A"),
        ("software_version_number", "16", 5, "A"),
        ("prbc_program_identifier", "17", 10, "A"),
        ("reserved_281", "18", 146, "A"),
    ]
)
"""The header record (CRRG header fields 1-18)."""

_TRAILER_STATUS_CODES = (
    "DA", "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84",
    "88", "89", "93", "94", "95", "96", "97",
)  # fmt: skip

TRAILER = _layout(
    [
        ("record_descriptor_word", "1", 4, "N"),
        ("record_identifier", "2", 7, "A"),
        ("total_base_records", "3", 9, "N"),
        ("reserved_21", "4", 9, "N"),
        ("total_status_code_df", "5", 9, "N"),
        ("total_j1_segments", "6", 9, "N"),
        ("total_j2_segments", "7", 9, "N"),
        ("block_count", "8", 9, "N"),
        *(
            (f"total_status_code_{code.lower()}", str(9 + i), 9, "N")
            for i, code in enumerate(_TRAILER_STATUS_CODES)
        ),
        ("total_ecoa_code_z", "31", 9, "N"),
        ("total_employment_segments", "32", 9, "N"),
        ("total_original_creditor_segments", "33", 9, "N"),
        ("total_purchased_sold_segments", "34", 9, "N"),
        ("total_mortgage_information_segments", "35", 9, "N"),
        ("total_specialized_payment_segments", "36", 9, "N"),
        ("total_change_segments", "37", 9, "N"),
        ("total_ssn_all_segments", "38", 9, "N"),
        ("total_ssn_base_segments", "39", 9, "N"),
        ("total_ssn_j1_segments", "40", 9, "N"),
        ("total_ssn_j2_segments", "41", 9, "N"),
        ("total_dob_all_segments", "42", 9, "N"),
        ("total_dob_base_segments", "43", 9, "N"),
        ("total_dob_j1_segments", "44", 9, "N"),
        ("total_dob_j2_segments", "45", 9, "N"),
        ("total_telephone_all_segments", "46", 9, "N"),
        ("reserved_408", "47", 19, "A"),
    ]
)
"""The trailer record (CRRG trailer fields 1-47): counts only, no amounts."""

TRAILER_STATUS_CODES = _TRAILER_STATUS_CODES
"""The account status codes the trailer counts, in its order."""


# --------------------------------------------------------------------------- formatting


def numeric(value: int, length: int) -> str:
    """A non-negative integer right-justified and zero-filled to ``length`` digits."""
    if value < 0:
        raise Metro2FormatError(f"{value} is negative; Metro 2 numerics are unsigned.")
    text = str(value)
    if len(text) > length:
        raise Metro2FormatError(f"{value} does not fit {length} digits.")
    return text.rjust(length, "0")


def ascii_upper(text: str) -> str:
    """``text`` as Metro 2 writes it: accents removed, upper case, other characters blank."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(c if c.isprintable() else " " for c in plain.upper())


def alphanumeric(text: str, length: int) -> str:
    """``text`` left-justified and blank-filled to ``length`` characters (cut to fit)."""
    return ascii_upper(text)[:length].ljust(length, " ")


def date_field(day: dt.date | None) -> str:
    """MMDDYYYY, or eight zeros for no date."""
    return "0" * 8 if day is None else day.strftime("%m%d%Y")


def time_stamp(moment: dt.datetime) -> str:
    """MMDDYYYYHHMMSS."""
    return moment.strftime("%m%d%Y%H%M%S")


def render(layout: Sequence[Field], values: Mapping[str, str | int]) -> str:
    """The record of ``layout`` with ``values`` by field name: ints go into numeric fields,
    text into either kind (a numeric field's text must be its digits, already formatted, or
    is zero-filled when empty); fields left out are blank or zero as their kind says."""
    known = {f.name for f in layout}
    unknown = set(values) - known
    if unknown:
        raise Metro2FormatError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    parts: list[str] = []
    for f in layout:
        value = values.get(f.name)
        if value is None:
            parts.append(("0" if f.kind == "N" else " ") * f.length)
        elif isinstance(value, int):
            if f.kind != "N":
                raise Metro2FormatError(f"{f.name} is alphanumeric; got the number {value}.")
            parts.append(numeric(value, f.length))
        elif f.kind == "N":
            digits = value or "0" * f.length
            if len(digits) != f.length or not digits.isdigit():
                raise Metro2FormatError(f"{f.name} needs {f.length} digits; got {value!r}.")
            parts.append(digits)
        else:
            parts.append(alphanumeric(value, f.length))
    record = "".join(parts)
    if len(record) != RECORD_LENGTH:
        raise AssertionError(f"record of {len(record)} characters")
    return record


def parse(layout: Sequence[Field], record: str) -> dict[str, str]:
    """Each field's text in ``record`` by name (as written: padding kept)."""
    if len(record) != RECORD_LENGTH:
        raise Metro2FormatError(f"A record has {len(record)} characters, not {RECORD_LENGTH}.")
    return {f.name: record[f.start - 1 : f.end] for f in layout}
