"""Roll rates, vintages and IFRS 9 from the event index: each loan's bucket at each month end,
rebuilt by replaying the index, equals what the ledger's own state at that month end's block
says; the matrices, curves and stages follow."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from loanservicing.ledger.delinquency import BUCKET_LABELS
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.state import LoanSnapshot, LoanState
from loanservicing.monitoring.ifrs9 import DEFAULT_LGD, ifrs9_report
from loanservicing.monitoring.loan_history import loan_histories, month_end, snapshots_at
from loanservicing.monitoring.roll_rates import roll_rates, vintages
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import DAY, UNIT, LedgerDriver


def _month_after(year: int, month: int, n: int) -> tuple[int, int]:
    k = year * 12 + month - 1 + n
    return k // 12, k % 12 + 1


def _book(s: LedgerDriver) -> tuple[dict[str, int], list[tuple[int, int]], dict[int, int]]:
    """Over four month ends: "good" pays on time, "late" falls 59 days behind then cures,
    "bad" never pays and is declared in default, "next" is paid off in the second month.
    Returns the loans, the months and each month end's block."""
    now = dt.datetime.fromtimestamp(s.now(), dt.UTC)
    months = [_month_after(now.year, now.month, n) for n in range(1, 5)]
    t0 = month_end(*_month_after(now.year, now.month, 0)) + 2 * DAY  # the 2nd of months[0]
    borrower, other = s.accounts[1], s.accounts[2]
    loans = {
        "good": s.originate(borrower, at=t0),
        "late": s.originate(other, at=t0 + 1),
        "bad": s.originate(other, default_after_days=60, at=t0 + 2),
    }
    blocks: dict[int, int] = {}
    e0 = month_end(*months[0])

    def month_end_block(t: int) -> None:
        s.mine_at(t)
        blocks[t] = s.w3.eth.block_number

    def originate_next() -> None:
        loans["next"] = s.originate(borrower, principal=2_000 * UNIT, at=t0 + 10 * DAY)

    def pay_off_next() -> None:
        t = e0 + 10 * DAY
        s.repay(loans["next"], s.due(loans["next"], t)["payoff"], borrower, at=t)

    def pay_good(n: int) -> None:
        t = s.due_date(loans["good"], n)
        s.repay(loans["good"], s.installment_total(loans["good"], n), borrower, at=t)

    def cure_late() -> None:
        t = t0 + 95 * DAY
        s.repay(loans["late"], s.due(loans["late"], t)["pastDue"], other, at=t)

    def default_bad() -> None:
        s.send(s.ledger.functions.declareDefault(loans["bad"]), at=t0 + 91 * DAY)

    ends = [month_end(*m) for m in months]
    actions = [(t, lambda t=t: month_end_block(t)) for t in ends]
    actions += [(t0 + 10 * DAY, originate_next), (e0 + 10 * DAY, pay_off_next)]
    actions += [(t0 + 30 * DAY * n, lambda n=n: pay_good(n)) for n in (1, 2, 3, 4)]
    actions += [(t0 + 95 * DAY, cure_late), (t0 + 91 * DAY, default_bad)]
    for _, act in sorted(actions, key=lambda a: a[0]):
        act()
    return loans, months, blocks


def test_month_end_books_roll_rates_vintages_and_stages(
    system: LedgerDriver, tmp_path: Path
) -> None:
    s = system
    loans, months, blocks = _book(s)
    indexer = make_indexer(s, tmp_path / "index.db")
    indexer.sync()
    histories = list(loan_histories(indexer.db).values())
    decimals = indexer.db.token_decimals()
    ends = sorted(blocks)
    books = snapshots_at(histories, ends, decimals)
    # Replayed from the index = the ledger's stored state at that month end's block.
    for t, book in zip(ends, books, strict=True):
        for loan_id, snap in book.items():
            view = s.ledger.functions.loan(loan_id).call(block_identifier=blocks[t])
            fields = [
                o["name"]
                for o in s.ledger.get_function_by_name("loan").abi["outputs"][0]["components"]
            ]
            chain = snapshot_at(
                LoanState.from_view(loan_id, dict(zip(fields, view, strict=True))), t, 6
            )
            assert (snap.status, snap.days_past_due, snap.principal_outstanding) == (
                chain.status,
                chain.days_past_due,
                chain.principal_outstanding,
            ), (loan_id, t)

    token = s.token.address
    buckets = [{name: _bucket(book[i]) for name, i in loans.items() if i in book} for book in books]
    assert buckets == [
        {"good": "current", "late": "current", "bad": "current", "next": "current"},
        {"good": "current", "late": "1-30", "bad": "1-30", "next": "closed"},
        {"good": "current", "late": "31-60", "bad": "31-60", "next": "closed"},
        {"good": "current", "late": "current", "bad": "defaulted", "next": "closed"},
    ]
    matrices = roll_rates(histories, months[0], months[3], token, decimals)
    assert [len(matrices), matrices[0].start, matrices[-1].end] == [3, ends[0], ends[-1]]

    def moved(k: int, *names: str) -> int:
        return sum(books[k][loans[n]].principal_outstanding for n in names)

    m01, m12, m23 = (
        {
            a: {b: p for b, p in row.items() if p}
            for a, row in m.principal.items()
            if any(row.values())
        }
        for m in matrices
    )
    on_time, behind, repaid = moved(0, "good"), moved(0, "late", "bad"), moved(0, "next")
    assert m01 == {"current": {"current": on_time, "1-30": behind, "closed": repaid}}
    assert m12 == {
        "current": {"current": moved(1, "good")},
        "1-30": {"31-60": moved(1, "late", "bad")},
    }
    assert m23 == {
        "current": {"current": moved(2, "good")},
        "31-60": {"current": moved(2, "late"), "defaulted": moved(2, "bad")},
    }
    expected = Decimal(moved(2, "bad")) / moved(2, "late", "bad")
    assert matrices[2].share("31-60", "defaulted") == expected.quantize(Decimal("0.000001"))

    curves = vintages(histories, ends[-1], token, decimals)
    (first,) = curves  # every loan originated in the first month
    assert (first.month, first.loans) == (f"{months[0][0]}-{months[0][1]:02d}", 4)
    assert first.principal == (3 * 12_000 + 2_000) * UNIT
    assert first.ever_30_plus == [0, 0, 24_000 * UNIT, 24_000 * UNIT]  # "late" and "bad", once
    assert first.defaulted == [0, 0, 0, 12_000 * UNIT]

    report = ifrs9_report(histories, ends[-1], token, 6)
    stages = {loan.loan_id: (loan.stage, loan.reason) for loan in report.loans}
    assert stages == {loans["good"]: (1, "performing"), loans["late"]: (1, "performing"),
                      loans["bad"]: (3, "defaulted")}  # fmt: skip
    at_two = ifrs9_report(histories, ends[2], token, 6)
    assert {loan.loan_id: loan.stage for loan in at_two.loans} == {
        loans["good"]: 1,
        loans["late"]: 2,
        loans["bad"]: 2,
    }
    for loan in report.loans:
        assert loan.ead == books[3][loan.loan_id].payoff
        assert loan.ecl == int(
            (loan.pd * DEFAULT_LGD * loan.ead).quantize(Decimal(1), ROUND_HALF_UP)
        )
    totals = report.totals()
    assert totals[3]["ead"] == books[3][loans["bad"]].payoff and totals[2]["loans"] == 0


def _bucket(snap: LoanSnapshot) -> str:
    if snap.status in ("defaulted", "closed"):
        return snap.status
    return BUCKET_LABELS[snap.delinquency_bucket]
