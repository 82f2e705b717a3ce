"""The demo end to end, small: each run on its own temporary Anvil (the shared run of
``demo_run`` too, see conftest.py)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from click.testing import CliRunner

from loanservicing.cli import cli
from loanservicing.demo.portfolio import DemoConfig, DemoDay, run_demo
from loanservicing.demo.profiles import FORBEAR, HOLIDAY
from loanservicing.ledger import calendar as cal
from tests.demo.recording import DemoRunResult, RecordingReporter

STABLE_KEYS = (
    "summary", "events", "profiles", "credit_records", "transactions", "ledger", "held_repayments",
)  # fmt: skip


def _demo_json(*args: str) -> dict[str, Any]:
    result = CliRunner(mix_stderr=False).invoke(cli, ["demo", "--json", *args])
    assert result.exit_code == 0, result.stderr
    document: dict[str, Any] = json.loads(result.stdout)  # one document, nothing else
    return document


def test_demo_json_is_a_consistent_reproducible_portfolio(demo_run: DemoRunResult) -> None:
    # The shared run is the one `demo --json --loans 15 --borrowers 8 --months 4 --seed 11`
    # makes: the command's run below repeats it exactly.
    first: dict[str, Any] = json.loads(json.dumps(demo_run.report.to_json()))
    summary = first["summary"]
    assert summary["loans"] == 15 and summary["decimals"] == 6
    assert sum(summary["by_status"].values()) == 15
    assert set(summary["by_schedule"]) == {"annuity", "equal-principal", "bullet"}
    assert sum(summary["by_bucket"].values()) == summary["by_status"]["active"]
    events = first["events"]
    assert events["originated"] == 15
    assert events["borrower_signed"] == 15  # every loan on terms its borrower signed
    # A third of the way in the token's issuer blocked the fund: its repayments were held,
    # then claimed to its treasury.
    held = first["held_repayments"]
    assert held["blocked_on_day"] == 122 // 3
    assert held["repayments_held"] == events["held_repayments"] > 0
    assert held["claimed"] == held["claimable"] > 0
    assert held["claimed_to"] and held["claimed_to"] != held["lender"]
    assert events["repayments"] > 30
    assert events["late_payments"] > 0 and events["partial_payments"] > 0
    assert events["restructurings"] == 1 and events["payoffs"] == 1
    assert events["holidays"] == 1 and events["forbearances"] == 1
    assert first["notices"]["holiday_granted"] == 1
    assert first["notices"]["forbearance_granted"] == 1
    assert events["defaults"] >= 1 and summary["by_status"]["defaulted"] == events["defaults"]
    assert summary["collected"] > summary["collected_interest"] > 0
    assert summary["principal_outstanding"] < summary["principal_originated"]
    assert summary["at_risk_30"] >= summary["principal_defaulted"] > 0
    assert 0 < summary["par30"] <= 1
    assert len(first["credit_records"]) == 4
    assert max(r["defaults"] for r in first["credit_records"]) >= 1
    assert first["days_simulated"] == 122
    assert first["end_timestamp"] - first["start_timestamp"] >= 122 * 86_400
    again = _demo_json("--loans", "15", "--borrowers", "8", "--months", "4", "--seed", "11")
    assert {k: again[k] for k in STABLE_KEYS} == {k: first[k] for k in STABLE_KEYS}
    other = _demo_json("--loans", "15", "--borrowers", "8", "--months", "4", "--seed", "12")
    assert other["summary"] != first["summary"]


def test_demo_calls_day_hooks_and_renders_a_summary() -> None:
    days: list[DemoDay] = []
    reporter = RecordingReporter()
    report = run_demo(
        DemoConfig(seed=1, loans=6, months=1, borrowers=3), reporter=reporter, on_day=[days.append]
    )
    assert [d.day for d in days] == list(range(1, 31))
    assert all(b.chain_time > a.chain_time for a, b in itertools.pairwise(days))
    assert report.summary.loans == 6
    assert reporter.days == list(range(1, 31)) and reporter.closed
    assert any(p.startswith("Originating 6 loans") for p in reporter.phases)
    assert all("[" not in text for text, _ in reporter.events)  # no markup: the CLI styles
    assert {tone for _, tone in reporter.events} <= {"", "good", "warning", "bad"}
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["demo", "--loans", "6", "--borrowers", "3", "--months", "1"]
    )
    assert result.exit_code == 0, result.stderr
    stdout, stderr = (" ".join(text.split()) for text in (result.stdout, result.stderr))
    for text in ("Loans by status", "PAR30", "Credit records", "collected",
                 "Every loan was originated on terms its borrower signed", "6 of 6"):  # fmt: skip
        assert text in stdout
    assert "Originating 6 loans" in stderr
    assert "each on terms its borrower signed (EIP-712)" in stderr


def test_the_holiday_and_the_forbearance_leave_their_loans_on_chain(
    demo_run: DemoRunResult,
) -> None:
    demo, report = demo_run.demo, demo_run.report
    servicer, ledger = demo.servicer, demo.servicer.ledger
    assert report.counts["holidays"] == report.counts["forbearances"] == 1
    assert report.notices["holiday_granted"] == report.notices["forbearance_granted"] == 1
    by_profile = {loan.profile: loan for loan in demo.loans}
    holiday, forbear = by_profile[HOLIDAY], by_profile[FORBEAR]
    events = [text for text, _ in demo_run.reporter.events]

    # The holiday: two installments from the next one, accepted by the borrower on chain; the
    # term is two installments longer and the borrower paid on the new schedule after it.
    (grant,) = servicer.holiday_grants(holiday.loan_id)
    assert grant.count == 2 and grant.capitalised_interest > 0
    (originated,) = ledger.events.LoanOriginated().get_logs(
        from_block=servicer.deployment.block, argument_filters={"loanId": holiday.loan_id}
    )
    view = servicer.loan_view(holiday.loan_id)
    assert int(view["installments"]) == int(originated["args"]["terms"]["installments"]) + 2
    assert int(view["installmentsPaid"]) > grant.through_installment
    assert int(view["status"]) != 1 and holiday.status != "defaulted"  # 1: Defaulted
    repaid = ledger.events.RepaymentApplied().get_logs(
        from_block=grant.block + 1, argument_filters={"loanId": holiday.loan_id}
    )
    assert repaid and int(ledger.functions.daysPastDue(holiday.loan_id).call()) == 0
    assert any(
        text.startswith(f"Loan {holiday.loan_id}: payment holiday of 2 installments granted on")
        and f"installments {grant.from_installment} to {grant.through_installment}" in text
        for text in events
    )

    # The forbearance: 30 days from the day the servicer granted it (the loan first past
    # due), on chain; the borrower caught up after the window and is not in default.
    window = servicer.forbearance(forbear.loan_id)
    assert window is not None and window[1] - window[0] == 29
    (granted,) = ledger.events.ForbearanceGranted().get_logs(
        from_block=servicer.deployment.block, argument_filters={"loanId": forbear.loan_id}
    )
    assert (int(granted["args"]["fromDay"]), int(granted["args"]["toDay"])) == window
    granted_at = int(demo.w3.eth.get_block(granted["blockNumber"])["timestamp"])
    offset = int(servicer.loan_view(forbear.loan_id)["utcOffsetMinutes"]) * 60
    assert cal.local_day(granted_at, offset) == window[0]  # from that day on
    assert forbear.status != "defaulted" and forbear.payments >= 2
    assert int(servicer.loan_view(forbear.loan_id)["status"]) != 1
    assert int(ledger.functions.daysPastDue(forbear.loan_id).call()) == 0
    first, last = (cal.date_of_day(d).isoformat() for d in window)
    assert f"Loan {forbear.loan_id} in forbearance from {first} to {last}" in " ".join(events)
