"""The demo runs the monitor every simulated day; its summary counts the notices."""

from __future__ import annotations

import json

from click.testing import CliRunner

from loanservicing.cli import cli
from tests.demo.recording import DemoRunResult


def test_demo_summary_counts_the_notices_the_monitor_raised(demo_run: DemoRunResult) -> None:
    report = demo_run.report
    notices, counts = report.notices, report.counts
    assert notices["payment_received"] == counts["repayments"]
    assert notices["defaulted"] == counts["defaults"] >= 1
    assert notices["restructured"] == counts["restructurings"] == 1
    assert notices["holiday_granted"] == counts["holidays"] == 1
    assert notices["forbearance_granted"] == counts["forbearances"] == 1
    assert notices["closed"] == counts["closed"]
    assert notices["repayment_held"] == counts["held_repayments"] > 0
    assert notices["credit_report_failed"] == 0  # the registry took every report
    assert notices["default_eligible"] >= notices["defaulted"]
    assert notices["reminder"] > 0 and notices["overdue"] > 0 and notices["bucket_changed"] > 0
    assert len(report.notice_examples) == len([k for k, v in notices.items() if v])
    document = report.to_json()
    assert document["notices"] == notices


def test_demo_prints_the_notices_table() -> None:
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["demo", "--loans", "6", "--borrowers", "3", "--months", "2"]
    )
    assert result.exit_code == 0, result.stderr
    assert "Monitor notices" in result.stdout
    assert "payment received" in result.stdout
    assert "repayment held" in result.stdout
    result = CliRunner(mix_stderr=False).invoke(
        cli, ["demo", "--loans", "6", "--borrowers", "3", "--months", "2", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["notices"]["payment_received"] > 0
