"""The Metro 2 tests' book of loans and the file validator.

``metro2_book`` drives five kinds of account through a reporting month on the chain, at
fixed dates of the year after the chain's (so the month has ended once it returns): a current
loan, one 35 days past due, a defaulted one, one paid off in the month, one in forbearance, and
two more (for borrowers the CLI tests leave out: no consent, erased). It returns what the
ledger's own ``amountDue`` said at the month's end, read before the chain passed it.

``read_metro2`` re-reads a file: every record 426 characters, each field by the layout table
(whose key positions are checked against the CRRG's here, independently), numerics digits,
dates MMDDYYYY, and the trailer's counts against the base segments.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from eth_typing import ChecksumAddress

from loanservicing.ledger import calendar as cal
from loanservicing.monitoring.loan_history import month_end
from loanservicing.monitoring.metro2_fields import (
    BASE_SEGMENT,
    HEADER,
    TRAILER,
    TRAILER_STATUS_CODES,
    Field,
    parse,
)
from tests.support.ledger_driver import UNIT, LedgerDriver

# CRRG positions (first, last) of the fields the tests read, written out apart from the
# package's table so a shifted table fails.
CRRG_BASE_POSITIONS = {
    "record_descriptor_word": (1, 4),
    "time_stamp": (6, 19),
    "identification_number": (21, 40),
    "consumer_account_number": (43, 72),
    "date_opened": (76, 83),
    "highest_credit": (93, 101),
    "terms_duration": (102, 104),
    "terms_frequency": (105, 105),
    "scheduled_monthly_payment": (106, 114),
    "actual_payment": (115, 123),
    "account_status": (124, 125),
    "payment_rating": (126, 126),
    "payment_history_profile": (127, 150),
    "special_comment": (151, 152),
    "current_balance": (155, 163),
    "amount_past_due": (164, 172),
    "original_charge_off_amount": (173, 181),
    "date_of_account_information": (182, 189),
    "date_of_first_delinquency": (190, 197),
    "date_closed": (198, 205),
    "date_of_last_payment": (206, 213),
    "consumer_transaction_type": (231, 231),
    "surname": (232, 256),
    "first_name": (257, 276),
    "middle_name": (277, 296),
    "social_security_number": (298, 306),
    "date_of_birth": (307, 314),
    "telephone_number": (315, 324),
    "ecoa_code": (325, 325),
    "first_line_of_address": (330, 361),
    "city": (394, 413),
    "state": (414, 415),
    "postal_code": (416, 424),
    "residence_code": (426, 426),
}
CRRG_HEADER_POSITIONS = {"record_identifier": (5, 10), "activity_date": (48, 55)}
CRRG_TRAILER_POSITIONS = {
    "record_identifier": (5, 11),
    "total_base_records": (12, 20),
    "total_status_code_11": (84, 92),
    "total_status_code_13": (93, 101),
    "total_status_code_71": (147, 155),
    "total_status_code_97": (255, 263),
    "total_ssn_base_segments": (336, 344),
    "total_dob_base_segments": (372, 380),
}
DATE_FIELDS = {
    "date_opened",
    "date_of_account_information",
    "date_of_first_delinquency",
    "date_closed",
    "date_of_last_payment",
    "date_of_birth",
    "activity_date",
    "date_created",
    "program_date",
    "program_revision_date",
}

KINDS = ("current", "late", "defaulted", "closed", "forbearance", "unconsented", "erased")
BORROWER_ACCOUNT = {
    "current": 1,
    "late": 2,
    "erased": 3,
    "defaulted": 5,
    "closed": 6,
    "forbearance": 7,
    "unconsented": 8,
}
"""Each loan's borrower (a dev account); account 4 is the bureau."""
BUREAU_ACCOUNT = 4


@dataclass(frozen=True)
class Book:
    year: int
    month: int
    loans: dict[str, int]
    borrowers: dict[str, ChecksumAddress]
    due_at_month_end: dict[str, dict[str, int]]
    """The ledger's ``amountDue(id, month end)`` of each loan, by kind."""
    next_installment_total: dict[str, int]
    as_of: int


def metro2_book(s: LedgerDriver) -> Book:
    """The loans, driven through March of the year after the chain's; the chain ends on 2
    April."""
    year = dt.datetime.fromtimestamp(s.now(), dt.UTC).year + 1

    def at(month: int, day: int) -> int:
        return int(dt.datetime(year, month, day, 12, tzinfo=dt.UTC).timestamp())

    def day_end(month: int, day: int) -> int:
        return cal.day_end(cal.local_day(at(month, day), 0), 0)

    borrowers = {kind: s.accounts[BORROWER_ACCOUNT[kind]] for kind in KINDS}
    t0 = at(1, 4)
    loans: dict[str, int] = {}
    for i, kind in enumerate(("current", "defaulted", "closed", "forbearance", "unconsented")):
        extra = {"default_after_days": 10} if kind == "defaulted" else {}
        loans[kind] = s.originate(borrowers[kind], first_due=day_end(2, 3), at=t0 + i, **extra)
    loans["erased"] = s.originate(borrowers["erased"], first_due=day_end(2, 3), at=t0 + 10)
    today = cal.local_day(at(1, 20), 0)
    s.send(
        s.ledger.functions.forbear(loans["forbearance"], today, cal.local_day(at(4, 30), 0)),
        at=at(1, 20),
    )
    loans["late"] = s.originate(borrowers["late"], first_due=day_end(2, 24), at=at(1, 25))
    current = loans["current"]
    s.repay(current, s.installment_total(current, 1), borrowers["current"], at=at(2, 3))
    s.send(s.ledger.functions.declareDefault(loans["defaulted"]), at=at(2, 20))
    s.repay(current, s.installment_total(current, 2), borrowers["current"], at=at(3, 5))
    closed = loans["closed"]
    s.repay(closed, s.due(closed, at(3, 15))["payoff"], borrowers["closed"], at=at(3, 15))
    as_of = month_end(year, 3)
    due = {kind: s.due(loan_id, as_of) for kind, loan_id in loans.items()}
    installment = {"current": s.installment_total(current, 3)}
    s.mine_at(at(4, 2))
    return Book(year, 3, loans, borrowers, due, installment, as_of)


def units(amount: int) -> int:
    """Whole tokens of the 6-decimal stablecoin, rounded down."""
    return amount // UNIT


# --------------------------------------------------------------------------- the validator


def check_positions(layout: tuple[Field, ...], expected: dict[str, tuple[int, int]]) -> None:
    by_name = {f.name: f for f in layout}
    for name, (first, last) in expected.items():
        assert (by_name[name].start, by_name[name].end) == (first, last), name
    ends = [f.start for f in layout[1:]]
    assert ends == [f.end + 1 for f in layout[:-1]], "fields overlap or leave gaps"


def _check_fields(layout: tuple[Field, ...], fields: dict[str, str]) -> None:
    for f in layout:
        value = fields[f.name]
        assert len(value) == f.length, f.name
        if f.kind == "N":
            assert value.isdigit(), (f.name, value)
        else:
            assert value == value.rstrip() + " " * (len(value) - len(value.rstrip())), f.name
            assert value == value.upper() and value.isascii(), (f.name, value)
        if f.name in DATE_FIELDS and value != "0" * 8:
            dt.datetime.strptime(value, "%m%d%Y")


@dataclass(frozen=True)
class Metro2Read:
    header: dict[str, str]
    bases: list[dict[str, str]]
    trailer: dict[str, str]

    def by_account(self) -> dict[int, dict[str, str]]:
        return {int(b["consumer_account_number"]): b for b in self.bases}


def read_metro2(path: Path) -> Metro2Read:
    """Re-read and check a Metro 2 file (see the module's docstring)."""
    check_positions(BASE_SEGMENT, CRRG_BASE_POSITIONS)
    check_positions(HEADER, CRRG_HEADER_POSITIONS)
    check_positions(TRAILER, CRRG_TRAILER_POSITIONS)
    text = path.read_bytes().decode("ascii")
    assert text.endswith("\n")
    records = text[:-1].split("\n")
    assert len(records) >= 2
    for record in records:
        assert len(record) == 426
    header = parse(HEADER, records[0])
    trailer = parse(TRAILER, records[-1])
    bases = [parse(BASE_SEGMENT, r) for r in records[1:-1]]
    assert header["record_descriptor_word"] == "0426" and header["record_identifier"] == "HEADER"
    assert trailer["record_identifier"] == "TRAILER"
    _check_fields(HEADER, header)
    _check_fields(TRAILER, trailer)
    for base in bases:
        _check_fields(BASE_SEGMENT, base)
        assert base["record_descriptor_word"] == "0426"
        assert base["date_of_account_information"] == header["activity_date"]
    # The trailer's counts are the base segments'.
    assert int(trailer["total_base_records"]) == len(bases)
    statuses = Counter(b["account_status"] for b in bases)
    for code in TRAILER_STATUS_CODES:
        assert int(trailer[f"total_status_code_{code.lower()}"]) == statuses.get(code, 0), code
    assert sum(statuses.values()) == len(bases)
    ssns = sum(1 for b in bases if b["social_security_number"] != "0" * 9)
    births = sum(1 for b in bases if b["date_of_birth"] != "0" * 8)
    phones = sum(1 for b in bases if b["telephone_number"] != "0" * 10)
    assert int(trailer["total_ssn_base_segments"]) == int(trailer["total_ssn_all_segments"]) == ssns
    assert int(trailer["total_dob_base_segments"]) == births
    assert int(trailer["total_telephone_all_segments"]) == phones
    return Metro2Read(header, bases, trailer)


def mmddyyyy(day: dt.date) -> str:
    return day.strftime("%m%d%Y")


def expected_history(kind: str) -> str:
    """The book's payment history profiles in March: February first, then January, then no
    history before the loans were opened in January."""
    february = "L" if kind == "defaulted" else "0"
    return february + "0" + "B" * 22


def day_of(t: int) -> dt.date:
    return dt.datetime.fromtimestamp(t, dt.UTC).date()
