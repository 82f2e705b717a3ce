"""The analytics page over a real history: its roll-rate matrix, vintage curves and IFRS 9
staging are the reports' (``report roll-rates|vintages|ifrs9``), the IFRS 9 exposure is the
ledger's own payoff, each chart is inline SVG, each CSV equals its table, and borrowers are
refused."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from loanservicing.amounts import money, share
from loanservicing.chain.abi import ORIGINATOR_ROLE, role
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.schedule import DAY
from loanservicing.monitoring.loan_history import loan_histories
from loanservicing.monitoring.roll_rates import (
    FROM_BUCKETS,
    TO_BUCKETS,
    roll_rate_window,
    roll_rates,
)
from loanservicing.portal.chain_clock import index_clock
from tests.portal.portal_driver import TestClient, sign_in, tables_and_downloads
from tests.support.indexing import make_indexer
from tests.support.ledger_driver import UNIT, LedgerDriver

Client = Callable[..., TestClient]


def test_analytics_are_the_reports_and_csv_equals_tables(
    system: LedgerDriver, portal_client: Client, tmp_path: Path
) -> None:
    a = system.accounts
    t0 = system.now() + 10
    on_time = system.originate(a[1], principal=10_000 * UNIT, at=t0)
    never = system.originate(a[2], principal=6_000 * UNIT, at=t0 + 1)
    once = system.originate(a[3], principal=4_000 * UNIT, at=t0 + 2)
    system.repay(once, system.installment_total(once, 1), a[3], at=system.due_date(once, 1) - 5)
    for n in range(1, 5):
        due = system.due_date(on_time, n)
        system.repay(on_time, system.installment_total(on_time, n), a[1], at=due - 1)
    now = t0 + 130 * DAY
    system.mine_at(now)

    client = portal_client()
    sign_in(client, 0)  # the admin: servicing staff, every loan
    tables = tables_and_downloads(client, "/analytics", "/analytics/")
    assert set(tables) >= {"roll-rates", "roll-rate-history", "vintages", "vintage-defaults",
                           "ifrs9", "ifrs9-loans"}  # fmt: skip

    indexer = make_indexer(system, tmp_path / "check.db")
    indexer.sync()
    with IndexDB(indexer.db.path) as db:
        clock, _ = index_clock(db)
        histories = list(loan_histories(db).values())
        decimals = db.token_decimals()
    indexer.db.close()
    token = system.token.address
    window = roll_rate_window(histories, clock, token)
    assert window is not None
    latest = roll_rates(histories, *window, token, decimals)[-1]
    header, *rows = tables["roll-rates"]
    assert header == ["from \\ to", *TO_BUCKETS]
    expected = [
        [b, *(share(latest.share(b, c)) for c in TO_BUCKETS)]
        for b in FROM_BUCKETS
        if any(latest.principal[b].values())
    ]
    assert rows == expected and rows

    vintage = tables["vintages"]
    assert len(vintage) == 2 and vintage[1][1] == "3"  # one cohort of three loans
    assert vintage[1][2] == money(20_000 * UNIT, 6)
    assert vintage[1][-1] != "0.00 %"  # the loan never paid went 30+ past due

    staged = {int(r[0]): r for r in tables["ifrs9-loans"][1:]}
    assert staged[on_time][2] == "1" and staged[never][2] == "3"
    assert staged[never][5] == money(system.due(never, now)["payoff"], 6)
    stages = {r[0]: r for r in tables["ifrs9"][1:]}
    assert stages["total"][1] == "3"

    page = client.get("/analytics").text
    for chart in ("roll-rates", "vintages", "ifrs9"):
        assert re.search(rf'<svg class="chart" data-chart="{chart}"', page), chart
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/portal.js" defer>']
    assert client.get("/analytics/..%2Fsettings.csv").status_code == 404

    # A lender (ORIGINATOR_ROLE only) sees the analytics of the loans it lends, only.
    fund = a[7]
    system.send(system.ledger.functions.grantRole(role(ORIGINATOR_ROLE), fund))
    theirs = system.originate(a[4], principal=2_000 * UNIT, lender=fund)
    lender = portal_client()
    sign_in(lender, 7)
    own = tables_and_downloads(lender, "/analytics", "/analytics/")
    assert [int(r[0]) for r in own["ifrs9-loans"][1:]] == [theirs]
    assert "your" in lender.get("/analytics").text.split("loans in")[0]

    borrower = portal_client()
    sign_in(borrower, 1)
    assert borrower.get("/analytics").status_code == 403
    assert borrower.get("/analytics/ifrs9.csv").status_code == 403
