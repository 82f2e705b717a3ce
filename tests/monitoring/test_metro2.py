"""The Metro 2 file from the event index: field formatting, the codes, and a month's file of
five kinds of account re-read by the validator and compared, field by field, with what the
ledger's own ``amountDue`` said at the month's end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loanservicing.ledger.schedule import DAY, ScheduleKind
from loanservicing.ledger.state import LoanState, LoanStatus
from loanservicing.monitoring.errors import BureauReportError
from loanservicing.monitoring.loan_history import loan_histories, month_end
from loanservicing.monitoring.metro2 import (
    Reporter,
    account_status,
    history_code,
    metro2_file,
    reporting_month,
)
from loanservicing.monitoring.metro2_fields import (
    BASE_SEGMENT,
    Metro2FormatError,
    alphanumeric,
    date_field,
    numeric,
    parse,
    render,
    time_stamp,
)
from loanservicing.monitoring.metro2_identity import BorrowerIdentity
from loanservicing.monitoring.repayment_history import repayments_of
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import LedgerDriver
from tests.support.metro2 import (
    KINDS,
    expected_history,
    metro2_book,
    mmddyyyy,
    read_metro2,
    units,
)

# --------------------------------------------------------------------------- formatting


def test_numerics_are_right_justified_and_zero_filled() -> None:
    assert numeric(1234, 9) == "000001234"
    assert numeric(0, 4) == "0000"
    assert numeric(999_999_999, 9) == "999999999"
    with pytest.raises(Metro2FormatError):
        numeric(1_000_000_000, 9)
    with pytest.raises(Metro2FormatError):
        numeric(-1, 9)


def test_alphanumerics_are_left_justified_blank_filled_upper_case_ascii() -> None:
    assert alphanumeric("Brennan", 10) == "BRENNAN   "
    assert alphanumeric("Świętojańska 41", 20) == "SWIETOJANSKA 41     "
    assert alphanumeric("Okonkwo-Lefèvre", 5) == "OKONK"
    assert alphanumeric("", 3) == "   "


def test_dates_are_mmddyyyy_and_zeros_for_none() -> None:
    assert date_field(dt.date(2027, 3, 31)) == "03312027"
    assert date_field(None) == "00000000"
    assert time_stamp(dt.datetime(2027, 3, 31, 23, 59, 59)) == "03312027235959"


def test_a_record_is_426_characters_and_reads_back_by_the_table() -> None:
    record = render(BASE_SEGMENT, {"surname": "Kowalczyk", "current_balance": 42})
    assert len(record) == 426
    fields = parse(BASE_SEGMENT, record)
    assert fields["surname"] == "KOWALCZYK".ljust(25)
    assert fields["current_balance"] == "000000042"
    assert fields["account_status"] == "  " and fields["date_opened"] == "00000000"
    assert record[231:256] == "KOWALCZYK".ljust(25)  # CRRG positions 232-256
    with pytest.raises(Metro2FormatError):
        render(BASE_SEGMENT, {"surname": 7})
    with pytest.raises(Metro2FormatError):
        render(BASE_SEGMENT, {"no_such_field": "x"})


def test_identity_documents_of_either_shape() -> None:
    structured = BorrowerIdentity.from_document(
        {"surname": "Brennan", "first_name": "Marta", "ssn": "123-45-6789",
         "date_of_birth": "1984-03-12", "telephone": "+1 (555) 010-2030", "city": "Gdynia"}
    )  # fmt: skip
    assert structured is not None
    assert (structured.surname, structured.ssn, structured.telephone) == (
        "Brennan",
        "123456789",
        "5550102030",
    )
    assert structured.date_of_birth == dt.date(1984, 3, 12)
    sample = BorrowerIdentity.from_document(
        {"name": "Jean Baptiste Okonkwo", "national_id": "FR-1870675116042",
         "date_of_birth": "1987-06-07", "address": "17 rue des Tanneurs"}
    )  # fmt: skip
    assert sample is not None
    assert (sample.first_name, sample.middle_name, sample.surname) == (
        "Jean",
        "Baptiste",
        "Okonkwo",
    )
    assert sample.ssn == "" and sample.address_line_1 == "17 rue des Tanneurs"
    assert BorrowerIdentity.from_document({"date_of_birth": "1984-03-12"}) is None


# --------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("days", "status", "history"),
    [
        (0, "11", "0"),
        (29, "11", "0"),
        (30, "71", "1"),
        (59, "71", "1"),
        (60, "78", "2"),
        (90, "80", "3"),
        (120, "82", "4"),
        (150, "83", "5"),
        (179, "83", "5"),
        (180, "84", "6"),
        (400, "84", "6"),
    ],
)
def test_status_and_history_codes_by_days_past_due(days: int, status: str, history: str) -> None:
    state = LoanState(
        loan_id=1, borrower="0x0", lender="0x0", token="0x0", kind=ScheduleKind.ANNUITY,
        principal=1, installments=1, apr_bps=0, penalty_apr_bps=0, late_fee_bps=0,
        default_after_days=90, period=30 * DAY, grace=0, base_principal=1, segment_start=0,
    )  # fmt: skip
    assert account_status(state, days) == status
    assert history_code(state, days) == history
    assert history_code(None, 0) == "B"
    for closed, after_default, code, rating_code in (
        (LoanStatus.DEFAULTED, False, "97", "L"),
        (LoanStatus.CLOSED, False, "13", "E"),
        (LoanStatus.CLOSED, True, "13", "L"),
    ):
        state.status, state.closed_after_default = closed, after_default
        assert account_status(state, days) == code
        assert history_code(state, days) == rating_code
        state.status, state.closed_after_default = LoanStatus.ACTIVE, False


def test_a_month_is_yyyy_mm_and_over() -> None:
    now = month_end(2027, 4) - 5
    assert reporting_month("2027-03", now) == (2027, 3)
    for text in ("2027-3", "03/2027", "2027-13", "march"):
        with pytest.raises(BureauReportError, match="not a month such as 2027-03"):
            reporting_month(text, now)
    with pytest.raises(BureauReportError, match="has not ended on chain yet"):
        reporting_month("2027-04", now)


# --------------------------------------------------------------------------- a month's file


IDENTITY = BorrowerIdentity(
    surname="Kowalczyk-Brennan",
    first_name="Marta",
    ssn="123456789",
    date_of_birth=dt.date(1984, 3, 12),
    address_line_1="ul. Świętojańska 41",
    city="Gdynia",
    postal_code="81391",
    country_code="PL",
)


def test_a_months_file_matches_the_ledger_field_by_field(
    system: LedgerDriver, tmp_path: Path
) -> None:
    book = metro2_book(system)
    indexer = make_indexer(system, tmp_path / "index.db")
    indexer.sync()
    db = indexer.db
    ids = list(book.loans.values())
    histories = loan_histories(db, ids)
    identities = {str(address): IDENTITY for address in book.borrowers.values()}
    furnished = metro2_file(
        histories,
        repayments_of(db, ids),
        identities,
        book.year,
        book.month,
        6,
        Reporter("LEDGER0001", "Test Lender"),
        dt.date(book.year, 4, 2),
    )
    path = tmp_path / "metro2.txt"
    path.write_text(furnished.text(), encoding="ascii")
    read = read_metro2(path)
    assert read.header["activity_date"] == f"0331{book.year}"
    bases = read.by_account()
    # Every loan of the book is written (its borrower's identity given), once.
    assert sorted(bases) == sorted(ids)
    expected_status = {
        "current": "11",
        "late": "71",
        "defaulted": "97",
        "closed": "13",
        "forbearance": "11",
        "unconsented": "71",
        "erased": "71",
    }
    for kind in KINDS:
        base, due = bases[book.loans[kind]], book.due_at_month_end[kind]
        assert base["account_status"] == expected_status[kind], kind
        assert base["payment_history_profile"] == expected_history(kind), kind
        balance = 0 if kind == "closed" else units(due["payoff"])
        assert int(base["current_balance"]) == balance, kind
        past_due = balance if kind == "defaulted" else units(due["pastDue"])
        assert int(base["amount_past_due"]) == past_due, kind
        assert base["surname"].rstrip() == "KOWALCZYK-BRENNAN"
        assert base["first_line_of_address"].rstrip() == "UL. SWIETOJANSKA 41"
        assert base["social_security_number"] == "123456789"
        assert base["date_of_birth"] == "03121984"
        assert base["highest_credit"] == f"{12_000:09d}"
        assert (base["terms_duration"], base["terms_frequency"]) == ("012", "M")
        assert base["date_of_account_information"] == f"0331{book.year}"
    late = bases[book.loans["late"]]
    assert book.due_at_month_end["late"]["daysPastDue"] == 35
    assert int(late["amount_past_due"]) > 0
    assert late["date_of_first_delinquency"] == mmddyyyy(dt.date(book.year, 2, 24))
    assert late["date_opened"] == mmddyyyy(dt.date(book.year, 1, 25))
    current = bases[book.loans["current"]]
    assert int(current["amount_past_due"]) == 0
    assert int(current["scheduled_monthly_payment"]) == units(
        book.next_installment_total["current"]
    )
    assert int(current["actual_payment"]) > 0
    assert current["date_of_last_payment"] == mmddyyyy(dt.date(book.year, 3, 5))
    assert current["date_of_first_delinquency"] == "0" * 8
    closed = bases[book.loans["closed"]]
    assert closed["payment_rating"] == "0"
    assert closed["date_closed"] == mmddyyyy(dt.date(book.year, 3, 15))
    assert int(closed["amount_past_due"]) == 0
    defaulted = bases[book.loans["defaulted"]]
    assert int(defaulted["original_charge_off_amount"]) >= 11_000
    assert defaulted["date_closed"] == mmddyyyy(dt.date(book.year, 2, 20))
    assert defaulted["date_of_first_delinquency"] == mmddyyyy(dt.date(book.year, 2, 3))
    assert int(defaulted["scheduled_monthly_payment"]) == 0
    forbearance = bases[book.loans["forbearance"]]
    assert forbearance["special_comment"] == "CP"
    assert book.due_at_month_end["forbearance"]["daysPastDue"] == 0
    assert {b["special_comment"] for b in read.bases} == {"CP", "  "}
    # The trailer counts the file's accounts by status.
    assert int(read.trailer["total_status_code_71"]) == 3
    assert int(read.trailer["total_ssn_base_segments"]) == len(ids)
    summary = furnished.summary()
    assert summary["accounts_written"] == len(ids)
    assert summary["current_balance"] == sum(int(b["current_balance"]) for b in read.bases)


def test_left_out_borrowers_are_counted_and_the_trailer_counts_the_rest(
    system: LedgerDriver, tmp_path: Path
) -> None:
    book = metro2_book(system)
    indexer = make_indexer(system, tmp_path / "index.db")
    indexer.sync()
    ids = list(book.loans.values())
    identities: dict[str, BorrowerIdentity | str] = {
        str(a): IDENTITY for a in book.borrowers.values()
    }
    identities[str(book.borrowers["unconsented"])] = "no-consent"
    identities[str(book.borrowers["erased"])] = "erased"
    furnished = metro2_file(
        loan_histories(indexer.db, ids),
        repayments_of(indexer.db, ids),
        identities,
        book.year,
        book.month,
        6,
        Reporter("LEDGER0001", "Test Lender"),
        dt.date(book.year, 4, 2),
    )
    path = tmp_path / "metro2.txt"
    path.write_text(furnished.text(), encoding="ascii")
    read = read_metro2(path)
    assert len(read.bases) == len(ids) - 2
    assert int(read.trailer["total_status_code_71"]) == 1
    summary = furnished.summary()
    assert summary["left_out_by_reason"] == {"erased": 1, "no-consent": 1}
    assert summary["accounts_written"] == len(ids) - 2
    # A month before any loan was opened has no account; the closed loan is not in April's.
    assert (
        metro2_file({}, {}, {}, book.year, 1, 6, Reporter("X", "Y"), dt.date.today()).accounts == []
    )


def test_a_payment_holiday_is_reported_as_a_deferral(system: LedgerDriver, tmp_path: Path) -> None:
    s = system
    year = dt.datetime.fromtimestamp(s.now(), dt.UTC).year + 1

    def at(month: int, day: int) -> int:
        return int(dt.datetime(year, month, day, 12, tzinfo=dt.UTC).timestamp())

    borrower = s.accounts[1]
    loan_id = s.originate(borrower, first_due=at(2, 3), at=at(1, 4))
    s.repay(loan_id, s.installment_total(loan_id, 1), borrower, at=at(2, 3))
    deadline = at(2, 20)
    s.send(s.ledger.functions.proposeHoliday(loan_id, 2, 2, deadline), at=at(2, 10))
    s.send(s.ledger.functions.acceptHoliday(loan_id, 2, 2, deadline), borrower, at=at(2, 11))
    march_end = month_end(year, 3)
    due = s.due(loan_id, march_end)
    s.mine_at(at(4, 2))
    indexer = make_indexer(s, tmp_path / "index.db")
    indexer.sync()
    furnished = metro2_file(
        loan_histories(indexer.db, [loan_id]),
        repayments_of(indexer.db, [loan_id]),
        {str(borrower): IDENTITY},
        year,
        3,
        6,
        Reporter("LEDGER0001", "Test Lender"),
        dt.date(year, 4, 2),
    )
    path = tmp_path / "metro2.txt"
    path.write_text(furnished.text(), encoding="ascii")
    (base,) = read_metro2(path).bases
    assert s.due_date(loan_id, 4) > march_end  # the holiday runs through March
    assert (base["terms_frequency"], base["scheduled_monthly_payment"]) == ("D", "0" * 9)
    assert base["account_status"] == "11" and base["special_comment"] == "  "
    assert int(base["amount_past_due"]) == units(due["pastDue"]) == 0
    assert int(base["current_balance"]) == units(due["payoff"])
    assert base["payment_history_profile"] == "00" + "B" * 22
