"""A lender in headless chromium: signs in (the ledger's admin), reads the portfolio, finds the
past-due loans in the collections queue in the right order with the right next steps, and
downloads the queue as CSV equal to the table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loanservicing.amounts import share
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.schedule import DAY
from loanservicing.monitoring.monitor import Monitor
from loanservicing.monitoring.reports import aging_report
from loanservicing.portal.chain_clock import index_clock
from loanservicing.portal.server import PortalServer
from tests.portal.portal_driver import (
    browser_context,
    browser_sign_in,
    csv_rows,
    install_wallet,
    page_table,
    wait_indexed,
)
from tests.support.ledger_driver import UNIT, LedgerDriver


def test_lender_portfolio_collections_queue_and_csv(
    system: LedgerDriver, portal: Callable[..., PortalServer], screenshots: Path
) -> None:
    a = system.accounts
    t0 = system.now() + 10
    # Two loans 35 days past due at the end (the larger past due first), one 35 days past
    # due over its 30-day default threshold, one 25 days, one 2 days (inside its grace
    # period), one paid up.
    late_small = system.originate(a[1], principal=10_000 * UNIT, at=t0)
    late_large = system.originate(a[2], principal=20_000 * UNIT, at=t0 + 1)
    defaulting = system.originate(a[3], principal=4_000 * UNIT, at=t0 + 2, default_after_days=30)
    later = system.originate(a[4], principal=5_000 * UNIT, at=t0 + 10 * DAY)
    in_grace = system.originate(a[5], principal=3_000 * UNIT, at=t0 + 33 * DAY)
    paid_up = system.originate(a[6], principal=6_000 * UNIT, at=t0 + 33 * DAY + 1)
    system.repay(paid_up, system.installment_total(paid_up, 1), a[6], at=t0 + 34 * DAY)
    # The two 35-day loans' misses are recorded (assess), the 25-day one's is not yet.
    for loan_id in (late_small, late_large):
        system.send(system.ledger.functions.assess(loan_id), at=t0 + 50 * DAY + loan_id)
    now = t0 + 65 * DAY + 3
    system.mine_at(now)
    expected = sorted(
        (late_small, late_large, defaulting, later, in_grace),
        key=lambda i: (-system.view("daysPastDue", i), -system.due(i, now)["pastDue"], i),
    )
    assert expected == [late_large, late_small, defaulting, later, in_grace]

    server = portal()
    wait_indexed(server, system.w3.eth.block_number)
    with IndexDB(server.follower.indexer.db.path) as db:
        clock, block = index_clock(db)
        assert clock == now
        Monitor(db).tick(clock, block)  # the notices the collections queue shows
        report = aging_report(db, clock, block)
    with browser_context() as context:
        install_wallet(context, 0)
        page = context.new_page()
        browser_sign_in(page, server.url, "/portfolio")
        par = {row[0]: row for row in page_table(page, "par")[1:]}
        assert par["PAR30"][2] == share(report.par30)
        assert par["PAR90"][2] == share(report.par90)
        aging = {row[0]: row for row in page_table(page, "aging")[1:]}
        assert aging["31-60"][1] == "3" and aging["1-30"][1] == "2"
        page.screenshot(path=str(screenshots / "lender-portfolio.png"), full_page=True)

        page.goto(server.url + "/collections")
        header, *rows = page_table(page, "collections")
        assert [int(r[0]) for r in rows] == expected
        steps = {int(r[0]): r[header.index("next step")] for r in rows}
        assert steps == {
            late_large: "call",
            late_small: "call",
            defaulting: "default eligible",
            later: "assess",
            in_grace: "reminder",
        }
        notices = {int(r[0]): r[header.index("notices")] for r in rows}
        assert "overdue" in notices[later] and "default_eligible" in notices[defaulting]
        page.screenshot(path=str(screenshots / "lender-collections.png"), full_page=True)

        with page.expect_download() as download:
            page.click("#table-collections a.csv")
        saved = Path(download.value.path())
        assert csv_rows(saved.read_text(encoding="utf8")) == [header, *rows]

        page.goto(f"{server.url}/loans/{late_small}")
        page.screenshot(path=str(screenshots / "lender-loan.png"), full_page=True)
        schedule = page_table(page, "schedule")
        csv_schedule = page.request.get(f"{server.url}/loans/{late_small}/schedule.csv")
        assert csv_rows(csv_schedule.text()) == schedule
