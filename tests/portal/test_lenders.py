"""Lenders see their own loans: the holder of the ledger's SERVICER_ROLE sees every loan; a
second lender (ORIGINATOR_ROLE only) sees the portfolio, collections queue and loan pages of
the loans it lends, and another lender's loan page is 403; an address that is a loan's
lender without any role left sees that loan as its lender."""

from __future__ import annotations

from collections.abc import Callable

from loanservicing.amounts import money
from loanservicing.chain.abi import ORIGINATOR_ROLE, role
from loanservicing.ledger.schedule import DAY
from tests.portal.portal_driver import TestClient, csv_rows, html_tables, sign_in
from tests.support.ledger_driver import UNIT, LedgerDriver

Client = Callable[..., TestClient]


def _grant(system: LedgerDriver, account: str) -> None:
    system.send(system.ledger.functions.grantRole(role(ORIGINATOR_ROLE), account))


def _active_loans(client: TestClient) -> int:
    """The portfolio's active loans (none defaulted or closed here)."""
    status = dict(html_tables(client.get("/portfolio").text)["status"][1:])
    assert (status["defaulted"], status["closed"]) == ("0", "0")
    return int(status["active"])


def _queue(client: TestClient) -> list[int]:
    return [int(row[0]) for row in html_tables(client.get("/collections").text)["collections"][1:]]


def test_a_lender_sees_its_own_loans_and_a_servicer_every_loan(
    system: LedgerDriver, portal_client: Client
) -> None:
    a = system.accounts
    fund = a[7]
    _grant(system, fund)
    t0 = system.now() + 10
    funds = system.originate(a[1], principal=4_000 * UNIT, lender=fund, at=t0)
    admins = system.originate(a[2], principal=9_000 * UNIT, at=t0 + 1)
    system.mine_at(t0 + 40 * DAY)  # both past due: in the collections queue

    lender = portal_client()
    reply = sign_in(lender, 7).json()
    assert (reply["lender"], reply["servicer"], reply["redirect"]) == (True, False, "/portfolio")
    tables = html_tables(lender.get("/portfolio").text)
    assert _active_loans(lender) == 1
    totals = dict(tables["totals"][1:])
    assert totals["principal originated"] == money(4_000 * UNIT, 6)
    assert csv_rows(lender.get("/portfolio/totals.csv").text) == tables["totals"]
    assert _queue(lender) == [funds]
    queue_csv = csv_rows(lender.get("/collections/collections.csv").text)
    assert [int(r[0]) for r in queue_csv[1:]] == [funds]
    own = lender.get(f"/loans/{funds}")
    assert own.status_code == 200 and "Terms and standing" in own.text
    for path in (f"/loans/{admins}", f"/loans/{admins}/live", f"/loans/{admins}/schedule.csv"):
        assert lender.get(path).status_code == 403, path

    servicer = portal_client()
    reply = sign_in(servicer, 0).json()
    assert (reply["lender"], reply["servicer"]) == (True, True)
    assert _queue(servicer) == [admins, funds]
    assert _active_loans(servicer) == 2
    for loan in (funds, admins):
        assert servicer.get(f"/loans/{loan}").status_code == 200

    borrower = portal_client()
    assert sign_in(borrower, 1).json()["lender"] is False
    assert borrower.get(f"/loans/{funds}").status_code == 200
    assert borrower.get(f"/loans/{admins}").status_code == 403
    assert borrower.get("/collections").status_code == 403


def test_the_lender_of_a_loan_sees_it_without_a_role(
    system: LedgerDriver, portal_client: Client
) -> None:
    a = system.accounts
    _grant(system, a[8])
    theirs = system.originate(a[3], principal=2_000 * UNIT, lender=a[8])
    other = system.originate(a[4], principal=3_000 * UNIT)
    system.send(system.ledger.functions.revokeRole(role(ORIGINATOR_ROLE), a[8]))
    client = portal_client()
    assert sign_in(client, 8).json()["lender"] is True
    assert _active_loans(client) == 1
    assert "Terms and standing" in client.get(f"/loans/{theirs}").text
    assert client.get(f"/loans/{other}").status_code == 403
    nobody = portal_client()
    assert sign_in(nobody, 9).json()["lender"] is False
    assert nobody.get("/portfolio").status_code == 403
