"""A regulator in headless chromium: signs in with a test wallet holding the regulator role,
reads every lender's portfolio, asks for the audit bundle of a block range, sees it verified
against the chain and downloads it; the analytics page draws its charts and its CSV downloads
equal its tables. A lender opening the regulator page is refused."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

from loanservicing.ledger.schedule import DAY
from loanservicing.portal.server import PortalServer
from tests.portal.portal_driver import (
    REGULATOR,
    SharedData,
    browser_context,
    browser_sign_in,
    csv_rows,
    install_wallet,
    page_table,
    wait_indexed,
)
from tests.support.ledger_driver import UNIT, LedgerDriver


def test_regulator_downloads_and_verifies_an_audit_bundle(
    system: LedgerDriver,
    portal: Callable[..., PortalServer],
    shared_data: SharedData,
    screenshots: Path,
) -> None:
    a = system.accounts
    t0 = system.now() + 10
    system.originate(a[5], principal=8_000 * UNIT, at=t0)
    late = system.originate(a[6], principal=3_000 * UNIT, at=t0 + 1)
    system.repay(late, system.installment_total(late, 1), a[6], at=system.due_date(late, 1))
    system.mine_at(t0 + 100 * DAY)
    head = system.w3.eth.block_number
    server = portal(data=shared_data.data)
    wait_indexed(server, head)
    with browser_context() as context:
        install_wallet(context, REGULATOR)
        page = context.new_page()
        browser_sign_in(page, server.url, "/regulator")
        status = page_table(page, "status")
        assert sum(int(r[1]) for r in status[1:]) == len(shared_data.summary.loans) + 2
        page.fill('input[name="from_block"]', str(system.block))
        page.fill('input[name="to_block"]', str(head))
        page.screenshot(path=str(screenshots / "regulator.png"), full_page=True)
        page.click("#request-bundle")
        page.wait_for_url(f"{server.url}/regulator/audit/*", timeout=30_000)
        result = page.text_content("#verification-result") or ""
        assert result.startswith("The bundle matches the chain"), result
        page.screenshot(path=str(screenshots / "regulator-audit.png"), full_page=True)
        with page.expect_download() as download:
            page.click("#bundle-zip")
        saved = Path(download.value.path())
        with zipfile.ZipFile(saved) as z:
            assert {"manifest.json", "loans.csv", "repayments.csv"} <= set(z.namelist())

        page.goto(server.url + "/analytics")
        for chart in ("roll-rates", "vintages", "ifrs9"):
            assert page.locator(f'svg[data-chart="{chart}"]').count() == 1
        staged = page_table(page, "ifrs9")
        assert staged[-1][0] == "total"
        page.screenshot(path=str(screenshots / "analytics.png"), full_page=True)
        for name in ("roll-rates", "vintages", "ifrs9"):
            with page.expect_download() as download:
                page.click(f"#table-{name} a.csv")
            text = Path(download.value.path()).read_text(encoding="utf8")
            assert csv_rows(text) == page_table(page, name), name

    with browser_context() as context:
        install_wallet(context, 0)
        page = context.new_page()
        browser_sign_in(page, server.url, "/portfolio")
        refused = page.goto(server.url + "/regulator")
        assert refused is not None and refused.status == 403
