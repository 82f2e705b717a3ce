"""The portal's pages agree with the CLI's implementations and their CSV downloads equal their
tables: the portfolio's figures with ``portfolio`` (read from the chain), a loan's schedule
with ``loan schedule``'s, a loan in another token in its own symbol and out of the
portfolio's sums."""

from __future__ import annotations

from collections.abc import Callable

from loanservicing.amounts import money
from loanservicing.deployment.compile import ContractArtifact
from loanservicing.ledger.delinquency import PAID, SETTLED
from loanservicing.ledger.schedule import DAY
from loanservicing.servicing.portfolio import summarize
from loanservicing.servicing.schedule_view import ScheduleRow, schedule
from loanservicing.servicing.servicer import Servicer
from tests.portal.portal_driver import TestClient, html_tables, sign_in, tables_and_downloads
from tests.support.ledger_driver import UNIT, LedgerDriver

Client = Callable[..., TestClient]


def test_portfolio_figures_are_the_cli_portfolio(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], portal_client: Client
) -> None:
    a = system.accounts
    t0 = system.now() + 10
    paid = system.originate(a[1], principal=10_000 * UNIT, at=t0)
    system.originate(a[2], principal=7_000 * UNIT, at=t0 + 1)
    system.originate(a[3], principal=2_500 * UNIT, at=t0 + 2, default_after_days=30)
    system.repay(paid, 2_000 * UNIT, a[1], at=t0 + 20 * DAY)
    system.mine_at(t0 + 75 * DAY)
    system.send(system.ledger.functions.declareDefault(3), at=t0 + 75 * DAY + 1)
    client = portal_client()
    sign_in(client, 0)
    tables = tables_and_downloads(client, "/portfolio", "/portfolio/")
    summary = summarize(Servicer(system.w3, system.deployment, artifacts, None))
    totals = dict(tables["totals"][1:])
    assert totals["principal outstanding"] == money(summary.principal_outstanding, 6)
    assert totals["collected"] == money(summary.collected, 6)
    assert totals["collected interest"] == money(summary.collected_interest, 6)
    assert totals["of which defaulted"] == money(summary.principal_defaulted, 6)
    assert dict(tables["status"][1:]) == {k: str(v) for k, v in summary.by_status.items()}
    par = {row[0]: row[1] for row in tables["par"][1:]}
    assert par["PAR30"] == money(summary.at_risk_30, 6)
    # Loans 1 and 2 are 45 and 46 days past due, loan 3 defaulted.
    assert par["PAR60"] == money(2_500 * UNIT, 6) == par["PAR90"]


def test_a_loan_schedule_is_the_cli_schedule(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], portal_client: Client
) -> None:
    borrower = system.accounts[1]
    t0 = system.now() + 10
    loan = system.originate(borrower, principal=6_000 * UNIT, installments=6, at=t0)
    first = system.installment_total(loan, 1)
    system.repay(loan, first, borrower, at=t0 + 25 * DAY)
    system.repay(loan, 200 * UNIT, borrower, at=t0 + 40 * DAY)
    system.mine_at(t0 + 95 * DAY)
    client = portal_client()
    sign_in(client, 1)
    tables = tables_and_downloads(client, f"/loans/{loan}", f"/loans/{loan}/")
    header, *rows = tables["schedule"]
    cli = schedule(Servicer(system.w3, system.deployment, artifacts, None), loan)
    assert len(rows) == len(cli) == 6
    for row, expected in zip(rows, cli, strict=True):
        assert row[0] == str(expected.number) and row[1] == expected.due_date
        assert row[2:6] == [
            money(v, 6) for v in (expected.principal, expected.interest, expected.total,
                                  expected.paid)
        ]  # fmt: skip
        assert row[-1] == expected.status
    assert [r[-1] for r in rows[:4]] == ["paid", "overdue", "in-grace", "due"]
    second_total, second_paid = cli[1].total, cli[1].paid
    assert second_total is not None and second_paid is not None
    assert header[6].startswith("unpaid") and rows[1][6] == money(second_total - second_paid, 6)
    repayments = tables["repayments"][1:]
    assert [r[1] for r in repayments] == [money(first, 6), money(200 * UNIT, 6)]


def _as_cli(rows: list[list[str]], cli: list[ScheduleRow]) -> None:
    """The page's schedule rows are ``loan schedule``'s, figure for figure."""
    assert [r[0] for r in rows] == [str(r.number) for r in cli]
    for row, expected in zip(rows, cli, strict=True):
        assert row[1] == expected.due_date
        assert row[2:6] == [
            money(v, 6) for v in (expected.principal, expected.interest, expected.total,
                                  expected.paid)
        ]  # fmt: skip
        assert row[-1] == expected.status


def test_after_a_prepayment_replaced_installments_are_the_cli_rebuild(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], portal_client: Client
) -> None:
    borrower = system.accounts[1]
    loan = system.originate(borrower, principal=6_000 * UNIT, installments=6)
    system.repay(loan, 3_000 * UNIT, borrower)  # the first installment and a prepayment
    client = portal_client()
    sign_in(client, 1)
    rows = tables_and_downloads(client, f"/loans/{loan}", f"/loans/{loan}/")["schedule"][1:]
    cli = schedule(Servicer(system.w3, system.deployment, artifacts, None), loan)
    _as_cli(rows, cli)
    assert rows[0][-1] == PAID and rows[0][2] != ""  # replaced, rebuilt from the events


def test_restructured_and_closed_loans_show_their_replaced_installments(
    system: LedgerDriver, artifacts: dict[str, ContractArtifact], portal_client: Client
) -> None:
    borrower = system.accounts[1]
    t0 = system.now() + 10
    loan = system.originate(borrower, principal=6_000 * UNIT, installments=6, at=t0)
    system.repay(loan, system.installment_total(loan, 1), borrower, at=t0 + 29 * DAY)
    system.repay(loan, 300 * UNIT, borrower, at=t0 + 50 * DAY)  # part of the second
    deadline = t0 + 62 * DAY
    terms = (loan, 900, 8, 30 * DAY, deadline)
    system.send(system.ledger.functions.proposeRestructure(*terms), at=t0 + 60 * DAY)
    system.send(system.ledger.functions.acceptRestructure(*terms), borrower, at=t0 + 61 * DAY)
    servicer = Servicer(system.w3, system.deployment, artifacts, None)
    client = portal_client()
    sign_in(client, 1)
    rows = tables_and_downloads(client, f"/loans/{loan}", f"/loans/{loan}/")["schedule"][1:]
    cli = schedule(servicer, loan)
    _as_cli(rows, cli)
    assert rows[0][-1] == PAID and all(r[2] for r in rows)  # every row has its amounts
    payoff = system.due(loan, t0 + 70 * DAY)["payoff"]
    system.repay(loan, payoff, borrower, at=t0 + 70 * DAY)
    assert system.loan(loan)["status"] == 2  # closed
    client = portal_client()
    sign_in(client, 1)
    rows = tables_and_downloads(client, f"/loans/{loan}", f"/loans/{loan}/")["schedule"][1:]
    closed = schedule(servicer, loan)
    _as_cli(rows, closed)
    assert {r[-1] for r in rows} <= {PAID, SETTLED} and all(r[2] for r in rows)


def test_a_loan_in_another_token_shows_its_symbol_and_stays_out_of_the_sums(
    system: LedgerDriver, portal_client: Client
) -> None:
    dai = system.originate(system.accounts[1], principal=500 * 10**18, token=system.token18)
    usdc = system.originate(system.accounts[2], principal=1_000 * UNIT)
    lender = portal_client()
    sign_in(lender, 0)
    page = lender.get("/portfolio").text
    assert "1 loan in other tokens left out" in page
    totals = dict(html_tables(page)["totals"][1:])
    assert totals["principal originated"] == money(1_000 * UNIT, 6)
    loan_page = lender.get(f"/loans/{dai}").text
    assert "500.00 tDAI" in loan_page and "tUSDC" not in loan_page.split("Credit record")[0]
    assert "1,000.00 tUSDC" in lender.get(f"/loans/{usdc}").text
    borrower = portal_client()
    sign_in(borrower, 1)
    (row,) = html_tables(borrower.get("/me").text)["loans"][1:]
    assert row[0] == str(dai) and row[3] == "500.00 tDAI"
