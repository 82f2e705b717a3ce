"""A borrower of the data-sharing scenario in headless chromium: signs in with a test wallet,
asks for a payoff quote for a date through the page's form and sees it, with the attestations
about them, the consents they gave and the vault's log of every access to their data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from loanservicing.amounts import money
from loanservicing.ledger import calendar as cal
from loanservicing.portal.server import PortalServer
from tests.portal.portal_driver import (
    SharedData,
    browser_context,
    browser_sign_in,
    install_wallet,
    page_table,
)
from tests.support.ledger_driver import LedgerDriver


def test_borrower_quotes_a_payoff_and_sees_their_data_sharing(
    system: LedgerDriver,
    portal: Callable[..., PortalServer],
    shared_data: SharedData,
    screenshots: Path,
) -> None:
    loan_id = shared_data.summary.loans[2]
    on = dt.datetime.fromtimestamp(system.now(), dt.UTC).date() + dt.timedelta(days=45)
    offset = int(system.loan(loan_id)["utcOffsetMinutes"]) * 60
    expected = system.due(loan_id, cal.day_end(cal.day_of_date(on), offset))["payoff"]
    server = portal(data=shared_data.data)
    with browser_context() as context:
        install_wallet(context, 3)
        page = context.new_page()
        browser_sign_in(page, server.url, "/me")
        page.select_option('select[name="loan"]', str(loan_id))
        page.fill('input[name="on"]', on.isoformat())
        page.click(".payoff-quote button")
        page.wait_for_selector('table[data-table="payoff"]')
        figures = {r[0]: r[1] for r in page_table(page, "payoff")[1:]}
        assert figures["to close the loan"] == money(expected, 6)
        types = [r[1] for r in page_table(page, "attestations")[1:]]
        assert sorted(types) == ["employment", "identity", "income"]
        (consent,) = page_table(page, "consents")[1:]
        assert consent[-1] == "in force"
        log = page_table(page, "access-log")[1:]
        assert any(r[2] == "a read was asked for" and r[5] == "granted" for r in log)
        # The regulator's recorded read of this borrower's identity document is in the log.
        assert any(r[2] == "a regulator's read was asked for" for r in log)
        assert page.locator("section.table-block p.explain").count() >= 7
        page.screenshot(path=str(screenshots / "borrower-data.png"), full_page=True)
