"""A borrower in headless chromium: signs in with a test wallet, sees their next payment, sees
a repayment mined while the loan page is open appear within 2 s without a reload, and is
refused another borrower's loan."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from loanservicing.amounts import money
from loanservicing.portal.server import PortalServer
from tests.portal.portal_driver import browser_context, browser_sign_in, install_wallet, page_table
from tests.support.ledger_driver import UNIT, LedgerDriver


def test_borrower_signs_in_sees_next_payment_and_live_repayment(
    system: LedgerDriver, portal: Callable[..., PortalServer], screenshots: Path
) -> None:
    borrower, other = system.accounts[1], system.accounts[2]
    mine = system.originate(borrower, principal=10_000 * UNIT)
    theirs = system.originate(other, principal=5_000 * UNIT)
    installment = system.installment_total(mine, 1)
    server = portal()
    with browser_context() as context:
        install_wallet(context, 1)
        page = context.new_page()
        browser_sign_in(page, server.url, "/me")
        loans = page_table(page, "loans")
        assert [row[0] for row in loans[1:]] == [str(mine)]
        assert loans[1][2].startswith(money(installment, 6, "tUSDC") + " by ")
        page.screenshot(path=str(screenshots / "borrower.png"), full_page=True)

        page.goto(f"{server.url}/loans/{mine}")
        assert page.text_content("#next-payment") == loans[1][2]
        assert page_table(page, "repayments")[1:] == []
        page.evaluate("window.__notReloaded = true")
        paid = system.repay(mine, installment, borrower)
        mined = time.monotonic()
        rows = (
            """document.querySelectorAll('table[data-table="repayments"] tbody tr:not(.empty)')"""
        )
        page.wait_for_function(f"() => {rows}.length === 1", timeout=2_000)
        seen = time.monotonic() - mined
        assert seen < 2.0
        assert page.evaluate("window.__notReloaded") is True
        (row,) = page_table(page, "repayments")[1:]
        assert row[1] == money(installment, 6)
        assert row[-1] == paid["receipt"]["transactionHash"].to_0x_hex()
        page.screenshot(path=str(screenshots / "borrower-loan.png"), full_page=True)

        refused = page.goto(f"{server.url}/loans/{theirs}")
        assert refused is not None and refused.status == 403
        assert "not yours" in page.text_content("main")

        page.goto(f"{server.url}/me")
        page.click("form.sign-out button")  # the form carries its CSRF token
        page.wait_for_url(server.url + "/sign-in")
        page.goto(f"{server.url}/loans/{mine}")
        assert page.url == server.url + "/sign-in"
