"""The index database: versioned migrations, idempotent log inserts, rollback, dump (on each
store: SQLite, and PostgreSQL when LOANSERVICING_TEST_DATABASE_URL names a server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loanservicing.indexing.connection import connect
from loanservicing.indexing.database import MIGRATIONS, SCHEMA_VERSION, BlockRow
from loanservicing.indexing.errors import IndexDatabaseError
from loanservicing.indexing.rows import (
    ChargeRow,
    ClaimRow,
    CreditReportFailureRow,
    DelinquencyChangeRow,
    HoldRow,
    PaymentRow,
    RebateRow,
    SegmentRow,
    TokenAllowanceRow,
)
from loanservicing.ledger.credit import CreditHistory, CreditRecord, apply_registry_event
from loanservicing.ledger.schedule import ScheduleKind
from loanservicing.ledger.state import LoanState
from tests.support.indexing import index_location, open_index


def _log(block: int, index: int, loan_id: int | None = 1, borrower: str | None = None) -> tuple:
    return (
        f"0x{block:064x}", index, block, 1_700_000_000 + block, f"0x{block * 100 + index:064x}",
        0, "0xLedger", "RepaymentApplied", loan_id, borrower, '{"loanId":1}',
    )  # fmt: skip


def _loan(loan_id: int = 1) -> LoanState:
    return LoanState(
        loan_id=loan_id,
        borrower="0xB",
        lender="0xL",
        token="0xT",
        kind=ScheduleKind.ANNUITY,
        principal=12_000 * 10**18,  # does not fit SQLite's INTEGER: stored as text
        installments=12,
        apr_bps=1200,
        penalty_apr_bps=600,
        late_fee_bps=500,
        default_after_days=90,
        period=30 * 86_400,
        grace=5 * 86_400,
        base_principal=12_000 * 10**18,
        segment_start=1_700_000_000,
    )


def test_a_new_database_is_at_the_current_schema_version(tmp_path: Path) -> None:
    with open_index(tmp_path / "i.db") as db:
        assert db.schema_version == SCHEMA_VERSION
        tables = {"logs", "loans", "payments", "credit_records", "credit_reporters", "holds"}
        assert tables <= set(db.dump())
    with open_index(tmp_path / "i.db") as db:  # reopening migrates nothing twice
        assert db.schema_version == SCHEMA_VERSION


CALENDAR_COLUMNS = (
    "months",
    "day_count",
    "utc_offset",
    "anchor_day",
    "rounding_exp",
    "interest_only",
    "odd_days",
    "calendar_month",
)
RELIEF_COLUMNS = (
    "holiday_periods",
    "pause_from",
    "pause_to",
    "holiday_from",
    "holiday_count",
    "holiday_deadline",
)


def test_a_version_1_database_migrates_with_its_loans(tmp_path: Path) -> None:
    path = tmp_path / "i.db"
    conn = connect(index_location(path))  # a database as version 1 of the program left it
    conn.script(MIGRATIONS[0])
    conn.set_user_version(1)
    loan = _loan()
    # Added by later migrations:
    later = {"advance", "advance_pending", *CALENDAR_COLUMNS, *RELIEF_COLUMNS}
    columns = [c for c in LoanState.__dataclass_fields__ if c not in later]
    values = {**loan.to_dict(), "kind": 0, "status": 0, "closed_after_default": 0}
    conn.execute(
        f"INSERT INTO loans ({', '.join(columns)}, principal_outstanding, updated_block) "
        f"VALUES ({', '.join('?' for _ in columns)}, ?, 1)",
        [str(values[c]) if isinstance(values[c], int) and values[c] > 2**62 else values[c]
         for c in columns] + [str(loan.principal)],
    )  # fmt: skip
    v1_payment = PaymentRow(*_log(5, 0)[:3], 1_700_000_005, "0xtx", 1, "0xB", *"00000", "7", 1, 0,
                            None)[:-1]  # fmt: skip
    conn.execute(
        f"INSERT INTO payments ({', '.join(PaymentRow._fields[:-1])}) "
        f"VALUES ({', '.join('?' for _ in v1_payment)})",
        v1_payment,
    )
    log = _log(5, 0)
    conn.execute(f"INSERT INTO logs VALUES ({', '.join('?' for _ in log)})", log)
    conn.close()
    with open_index(path) as db:
        assert db.schema_version == SCHEMA_VERSION == 7
        # The logs, re-keyed in chain order (version 7), are all there.
        assert [(r.block_hash, r.log_index, r.args) for r in db.logs()] == [
            (log[0], log[1], json.loads(log[-1]))
        ]
        # A repayment's days past due when made: unknown (NULL) for rows indexed before v5.
        (row,) = db.conn.execute("SELECT principal_outstanding, days_past_due FROM payments")
        assert (row[0], row[1]) == ("7", None)
        # No interest paid ahead, a plain calendar, no holiday or forbearance: the defaults.
        assert db.loan(1) == loan
        assert db.credit_histories() == {}
    with open_index(path) as db:  # reopened: nothing left to migrate
        assert db.schema_version == SCHEMA_VERSION and db.loan(1) == loan


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "i.db"
    open_index(path).close()
    conn = connect(index_location(path))
    conn.set_user_version(SCHEMA_VERSION + 1)
    conn.close()
    with pytest.raises(IndexDatabaseError, match="newer than"):
        open_index(path)


def test_an_18_decimal_amount_above_2_64_round_trips_exactly(tmp_path: Path) -> None:
    amount = 18_446_744_073_709_551_616 * 1_000 + 123_456_789_012_345_678  # > 2**64, 18 dec.
    assert amount > 2**64
    with open_index(tmp_path / "i.db") as db:
        loan = _loan()
        loan.principal = loan.base_principal = loan.paid_principal = amount
        hold = HoldRow(f"0x{5:064x}", 0, 5, 5, "0xtx", 1, "0xL", "0xT", str(amount), str(amount))
        with db.transaction():
            db.save_loans([loan], 5)
            db.insert_rows("holds", HoldRow._fields, [hold])
        stored = db.loan(1)
        assert stored is not None and stored.principal == amount
        assert type(stored.principal) is int and stored.paid_principal == amount
        assert db.claimable_balances() == {("0xL", "0xT"): amount}
        (row,) = db.conn.execute("SELECT amount FROM holds")
        assert int(row["amount"]) == amount


def test_log_inserts_are_idempotent_and_rollback_reports_what_it_touched(tmp_path: Path) -> None:
    with open_index(tmp_path / "i.db") as db:
        with db.transaction():
            db.insert_logs([_log(5, 0), _log(6, 0), _log(7, 1, None, "0xB")])
            db.insert_logs([_log(5, 0)])
            db.upsert_blocks([BlockRow(n, f"0x{n:064x}", None, n, True) for n in (5, 6, 7)])
        assert db.count_logs() == 3
        with db.transaction():
            loans, borrowers = db.rollback_above(5)
        assert (loans, borrowers) == ({1}, {"0xB"})
        assert db.count_logs() == 1
        assert db.block_hashes_below(10, 5) == [(5, f"0x{5:064x}")]


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    with open_index(tmp_path / "i.db") as db:
        with pytest.raises(RuntimeError), db.transaction():
            db.insert_logs([_log(5, 0)])
            raise RuntimeError("crash")
        assert db.count_logs() == 0


def test_loans_and_credit_histories_round_trip_big_amounts(tmp_path: Path) -> None:
    with open_index(tmp_path / "i.db") as db:
        loan = _loan()
        loan.fees = 2**95
        loan.advance, loan.advance_pending = 2**90, True
        history = CreditHistory("0xB")
        for name, reporter, args in [
            ("LoanOpenedReported", "0xL2", {}),
            ("LoanOpenedReported", "0xL1", {}),
            ("RepaymentReported", "0xL1", {"paidOnTime": 3, "paidLate": 0, "amount": 2**90}),
            ("DelinquencyReported", "0xL2", {"missed": 1, "daysPastDue": 45}),
            ("RepaymentReported", "0xL3", {"paidOnTime": 1, "paidLate": 1, "amount": 5}),
        ]:
            apply_registry_event(history, name, {"reporter": reporter, "loanId": 7, **args})
        with db.transaction():
            db.save_loans([loan], 9)
            db.save_credit_histories([history], 9)
        assert db.loan(1) == loan
        assert db.credit_histories() == {"0xB": history}
        assert db.credit_histories(["0xB"])["0xB"].reporters == ["0xL2", "0xL1", "0xL3"]
        assert db.credit_records() == {"0xB": history.record()}
        assert db.credit_records()["0xB"] == CreditRecord(
            "0xB", paid_on_time=4, paid_late=1, missed=1, current_days_past_due=45,
            max_days_past_due=45, loans_opened=2, total_repaid=2**90 + 5,
        )  # fmt: skip
        row = db.conn.execute("SELECT principal_outstanding FROM loans").fetchone()
        assert int(row[0]) == 12_000 * 10**18
        with db.transaction():
            db.delete_credit_records(["0xB"])
        assert db.credit_histories() == {}
        assert db.conn.execute("SELECT COUNT(*) FROM credit_standing").fetchone()[0] == 0


def test_claimable_balances_follow_the_latest_hold_or_claim(tmp_path: Path) -> None:
    def hold(block: int, claimable: int) -> HoldRow:
        return HoldRow(f"0x{block:064x}", 0, block, block, "0xtx", 1, "0xL", "0xT", "1",
                       str(claimable))  # fmt: skip

    with open_index(tmp_path / "i.db") as db, db.transaction():
        db.insert_rows("holds", HoldRow._fields, [hold(5, 10), hold(7, 25)])
        assert db.claimable_balances() == {("0xL", "0xT"): 25}
        claim = ClaimRow(f"0x{8:064x}", 1, 8, 8, "0xtx", "0xL", "0xT", "0xR", "25")
        db.insert_rows("claims", ClaimRow._fields, [claim])
        assert db.claimable_balances() == {("0xL", "0xT"): 0}
        db.insert_rows("holds", HoldRow._fields, [hold(9, 3)])
        assert db.claimable_balances() == {("0xL", "0xT"): 3}
        db.rollback_above(8)  # a reorg takes the last hold away
        assert db.claimable_balances() == {("0xL", "0xT"): 0}


@pytest.mark.parametrize(
    ("table", "fields"),
    [
        ("payments", PaymentRow._fields),
        ("charges", ChargeRow._fields),
        ("delinquency_changes", DelinquencyChangeRow._fields),
        ("segments", SegmentRow._fields),
        ("rebates", RebateRow._fields),
        ("holds", HoldRow._fields),
        ("claims", ClaimRow._fields),
        ("credit_report_failures", CreditReportFailureRow._fields),
        ("token_allowances", TokenAllowanceRow._fields),
    ],
)
def test_each_projection_row_names_its_tables_columns(
    tmp_path: Path, table: str, fields: tuple[str, ...]
) -> None:
    with open_index(tmp_path / "i.db") as db:
        cursor = db.conn.execute(f"SELECT * FROM {table} LIMIT 0")
        columns = [column[0] for column in cursor.description]  # type: ignore[attr-defined]
        assert tuple(columns) == fields
