"""The borrower's page with the data-sharing deployment: a payoff quote for a chosen date equal
to the ledger's ``amountDue`` then, the attestations about them (types and issuers, never a
document), the consents they gave, every vault access to their data, and their credit score
with its factors (the registry's own); the lender's loan page shows the score beside the
record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from loanservicing.amounts import money
from loanservicing.demo.data_sharing import SAMPLE_PEOPLE
from loanservicing.ledger import calendar as cal
from loanservicing.ledger.credit_score import FACTORS
from loanservicing.ledger.schedule import DAY
from tests.portal.portal_driver import (
    SharedData,
    TestClient,
    csv_rows,
    html_tables,
    sign_in,
    tables_and_downloads,
)
from tests.support.ledger_driver import LedgerDriver

Client = Callable[..., TestClient]


def _date(timestamp: int) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).date().isoformat()


def test_borrower_sees_payoff_attestations_consents_and_access_log(
    system: LedgerDriver, portal_client: Client, shared_data: SharedData
) -> None:
    summary = shared_data.summary
    me, loan_id = system.accounts[2], summary.loans[1]
    client = portal_client(data=shared_data.data)
    sign_in(client, 2)
    tables = tables_and_downloads(client, "/me", "/me/")
    page = client.get("/me").text

    _, *attested = tables["attestations"]
    mine = [a for a in summary.attestations if a["subject"] == me]
    assert [r[1] for r in attested] == [a["type"] for a in mine]
    assert {r[1]: r[2] for r in attested} == {
        "identity": "kyc-provider", "employment": "employer", "income": "employer"
    }  # fmt: skip
    assert [r[3] for r in attested] == [a["attester"] for a in mine]
    assert {r[-1] for r in attested} == {"valid"}
    person = SAMPLE_PEOPLE[1]
    for value in (person.name, person.national_id):  # types and issuers, never documents
        assert value.lower() not in page.lower()

    (consent,) = tables["consents"][1:]
    assert consent[0] == system.accounts[0]
    assert consent[1] == "identity, employment, income" and consent[-1] == "in force"

    log = tables["access-log"][1:]
    assert all(r[3] in ("vault", system.accounts[0]) for r in log)
    reads = [r for r in log if r[2] == "a read was asked for"]
    assert [(r[3], r[4], r[5]) for r in reads] == [(system.accounts[0], "income", "granted")]
    assert len([r for r in log if r[2] == "a document was stored"]) == 3

    score, parts = system.registry.functions.creditScore(me).call()
    rows = {r[0]: r for r in tables["score"][1:]}
    assert tables["score"][1][1] == str(score)
    for factor, points in zip(FACTORS, parts, strict=True):
        row = rows[factor.label]
        assert row[1] == (f"-{points}" if factor.deducted and points else str(points))
        assert row[3] == factor.meaning and row[4] == factor.to_raise

    # A payoff quote for a date three weeks on, by the loan's convention (its UTC offset).
    offset = int(system.loan(loan_id)["utcOffsetMinutes"]) * 60
    on = _date(system.now() + 21 * DAY)
    at = cal.day_end(cal.day_of_date(dt.date.fromisoformat(on)), offset)
    due = system.due(loan_id, at)
    quoted = client.get("/me", params={"loan": str(loan_id), "on": on})
    payoff = html_tables(quoted.text)["payoff"]
    figures = {r[0]: r[1] for r in payoff[1:]}
    assert figures["to close the loan"] == money(due["payoff"], 6)
    assert figures["interest to the day"] == money(due["accruedInterest"], 6)
    assert figures["principal still to come"] == money(due["remainingPrincipal"], 6)
    assert all(len(r) == 3 and r[2] for r in payoff[1:])  # a sentence per figure
    download = client.get("/me/payoff.csv", params={"loan": str(loan_id), "on": on})
    assert csv_rows(download.text) == payoff
    assert f'href="/me/payoff.csv?loan={loan_id}&amp;on={on}"' in quoted.text

    past = client.get("/me", params={"loan": str(loan_id), "on": _date(system.now() - 3 * DAY)})
    assert "payoff" not in html_tables(past.text) and "later date" in past.text
    theirs = client.get("/me", params={"loan": str(summary.loans[0]), "on": on})
    assert "payoff" not in html_tables(theirs.text) and "one of your open loans" in theirs.text
    assert client.get("/me/payoff.csv", params={"loan": str(summary.loans[0])}).status_code == 404

    erased = portal_client(data=shared_data.data)
    sign_in(erased, 1)
    assert 'id="erased"' in erased.get("/me").text

    lender = portal_client(data=shared_data.data)
    sign_in(lender, 0)
    beside = html_tables(lender.get(f"/loans/{loan_id}").text)
    assert beside["score"][1][:2] == ["score", str(score)]
    assert len(beside["score"][0]) == 3  # the lender's view: the figures, no explanations
