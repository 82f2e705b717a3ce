"""``monitor run``, ``monitor notices``, ``report delinquency`` and ``loan list --bucket``
through CliRunner against the session Anvil."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from loanservicing.chain.accounts import dev_signer
from loanservicing.chain.node import AnvilNode
from tests.cli.driver import Cli

LENDER = dev_signer(0).address
BORROWERS = [dev_signer(i).address for i in (1, 2, 3)]


def _tick(run: Cli, *extra: str) -> Any:
    return run.json("monitor", "run", "--once", "--db", str(run.db), *extra)


def _create(run: Cli, borrower: str) -> int:
    run.json("faucet", LENDER, "3000")
    document = run.json(
        "loan", "create", "--borrower", borrower, "--principal", "3000", "--apr", "12",
        "--installments", "3", "--period", "30d", "--default-after", "45d",
    )  # fmt: skip
    return int(document["loan_id"])


def test_monitor_run_notices_keeper_and_delinquency_report(run: Cli, tmp_path: Path) -> None:
    loans = [_create(run, b) for b in BORROWERS]
    jsonl = tmp_path / "notices.jsonl"
    first = _tick(run, "--jsonl", str(jsonl))
    assert first["loans"] == 3 and first["notices"] == []
    run.json("chain", "advance", "28d")
    reminders = _tick(run, "--jsonl", str(jsonl))
    assert [n["kind"] for n in reminders["notices"]] == ["reminder"] * 3
    notice = reminders["notices"][0]
    assert {"id", "kind", "loan_id", "borrower", "days_past_due", "amount", "decimals"} <= set(
        notice
    )
    assert notice["decimals"] == 6 and isinstance(notice["amount"], int)
    assert notice["due_timestamp"] > notice["chain_timestamp"] and notice["block"] > 0
    assert reminders["delivery"]["delivered"] == {f"jsonl:{jsonl.resolve()}": 3}
    assert _tick(run, "--jsonl", str(jsonl))["notices"] == []  # raised once
    paid = run.json("repay", str(loans[0]), "1100", "--account", "1")
    assert paid["status"] == "active"
    # 40 days on: loan 1 paid its first installment and part of the second (8 days past
    # due), loans 2 and 3 paid nothing (38 days past due); all three have a miss to record.
    run.json("chain", "advance", "40d")
    tick = _tick(run, "--jsonl", str(jsonl), "--keeper")
    kinds = sorted({n["kind"] for n in tick["notices"]})
    assert kinds == ["bucket_changed", "overdue", "payment_received"]
    payment = next(n for n in tick["notices"] if n["kind"] == "payment_received")
    assert payment["amount"] == 1100 * 10**6 and payment["loan_id"] == loans[0]
    assert set(payment["details"]) >= {"fees", "penalty", "interest", "principal"}
    assert tick["keeper"]["assessed"] == loans and tick["keeper"]["failed"] == {}
    again = _tick(run, "--keeper")
    assert again["notices"] == [] and again["keeper"]["assessed"] == []
    lines = [json.loads(line)["id"] for line in jsonl.read_text().splitlines()]
    assert len(lines) == len(set(lines)) == 3 + len(tick["notices"])
    # monitor notices: filters and JSON.
    listed = run.json("monitor", "notices", "--db", str(run.db))
    assert listed["count"] == len(lines)
    assert [n["id"] for n in listed["notices"]] == lines
    overdue = run.json("monitor", "notices", "--db", str(run.db), "--kind", "overdue")
    # The table at 80 columns: nothing cut, amounts with two decimals.
    table = run.raw("monitor", "notices", "--db", str(run.db)).stdout
    assert "…" not in table and max(map(len, table.splitlines())) <= 80
    assert "1,100.00" in table and "received" in table and "(fees" in table
    assert "tUSDC" in table  # the index asked the token its symbol
    # The same rows as CSV, amounts as exact decimals.
    exported = tmp_path / "overdue.csv"
    run.json("monitor", "notices", "--db", str(run.db), "--kind", "overdue", "--csv", str(exported))
    with exported.open(newline="", encoding="utf8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == [n["id"] for n in overdue["notices"]]
    first_row, first_notice = rows[0], overdue["notices"][0]
    assert Decimal(first_row["amount"]) * 10**6 == first_notice["amount"]
    assert int(first_row["days_past_due"]) == first_notice["days_past_due"]
    overdue_loans = sorted(n["loan_id"] for n in overdue["notices"])
    assert overdue_loans == [loans[0], loans[1], loans[1], loans[2], loans[2]]
    since = run.json(
        "monitor", "notices", "--db", str(run.db), "--since", str(payment["chain_timestamp"])
    )
    expected = [
        n["id"] for n in listed["notices"] if n["chain_timestamp"] >= payment["chain_timestamp"]
    ]
    assert [n["id"] for n in since["notices"]] == expected
    assert {n["id"] for n in tick["notices"]} <= set(expected)
    # report delinquency and loan list --bucket agree with the ledger's days past due.
    report = run.json("report", "delinquency", "--db", str(run.db))
    buckets = {b["bucket"]: b for b in report["buckets"]}
    assert buckets["31-60"]["loans"] == 2 and buckets["1-30"]["loans"] == 1
    assert buckets["defaulted"]["loans"] == 0
    assert report["at_risk_30"] == buckets["31-60"]["principal_outstanding"]
    assert 0 < report["par30"] < 1 and report["par90"] == 0
    assert report["loans"] == 3 and report["decimals"] == 6
    listed_loans = run.json("loan", "list", "--bucket", "31-60")
    assert [loan["loan_id"] for loan in listed_loans["loans"]] == loans[1:]
    assert run.json("loan", "list", "--bucket", "90+")["count"] == 0
    # Default eligibility at 45 days, then the default itself.
    run.json("chain", "advance", "8d")
    eligible = _tick(run)
    assert (
        sorted(n["loan_id"] for n in eligible["notices"] if n["kind"] == "default_eligible")
        == (loans[1:])
    )
    run.json("loan", "default", str(loans[1]))
    defaulted = _tick(run)["notices"]
    assert [n["kind"] for n in defaulted] == ["defaulted"]
    report = run.json("report", "delinquency", "--db", str(run.db))
    assert {b["bucket"]: b["loans"] for b in report["buckets"]}["defaulted"] == 1


def test_monitor_run_full_evaluates_every_loan_and_keeps_the_deadline_index(run: Cli) -> None:
    loans = [_create(run, b) for b in BORROWERS[:2]]
    assert _tick(run)["evaluation"] == "full"  # the first tick builds the deadline index
    run.json("chain", "advance", "1d")
    quiet = _tick(run)
    assert quiet["evaluation"] == "incremental" and quiet["evaluated"] == 0
    forced = _tick(run, "--full")
    assert forced["evaluation"] == "full" and forced["evaluated"] == len(loans)
    assert forced["notices"] == []  # nothing new: what the incremental tick found
    run.json("chain", "advance", "27d")
    reminders = _tick(run, "--full")
    assert reminders["evaluation"] == "full"
    assert sorted(n["loan_id"] for n in reminders["notices"] if n["kind"] == "reminder") == loans
    # The index a full tick rebuilt serves the next tick.
    after = _tick(run)
    assert after["evaluation"] == "incremental" and after["notices"] == []


def test_human_output_and_bad_input(run: Cli, tmp_path: Path) -> None:
    _create(run, BORROWERS[0])
    run.json("chain", "advance", "28d")
    result = run.raw("monitor", "run", "--once", "--db", str(run.db))
    assert result.exit_code == 0, result.stderr
    assert "reminder" in result.stdout and "loan " in result.stdout
    shown = run.raw("monitor", "notices", "--db", str(run.db))
    assert shown.exit_code == 0 and "reminder" in shown.stdout
    report = run.raw("report", "delinquency", "--db", str(run.db))
    assert report.exit_code == 0 and "PAR30" in report.stdout
    missing = run.raw("monitor", "notices", "--db", str(tmp_path / "nothing.db"))
    assert missing.exit_code == 1 and "no index database" in missing.stderr
    bad_since = run.raw("monitor", "notices", "--db", str(run.db), "--since", "yesterday")
    assert bad_since.exit_code == 1 and "Traceback" not in bad_since.stderr
    bad_interval = run.raw("monitor", "run", "--db", str(run.db), "--interval", "0s")
    assert bad_interval.exit_code == 1 and "positive" in bad_interval.stderr


def test_monitor_run_loops_until_sigterm(run: Cli, anvil: AnvilNode) -> None:
    loan_id = _create(run, BORROWERS[0])
    command = [
        sys.executable, "-m", "loanservicing.cli", *run.base,
        "monitor", "run", "--db", str(run.db), "--interval", "1s", "--json",
    ]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as process:
        try:
            assert process.stdout is not None
            first = json.loads(process.stdout.readline())
            assert first["loans"] >= 1 and first["notices"] == []
            run.json("repay", str(loan_id), "100", "--account", "1")
            seen: list[str] = []
            deadline = time.monotonic() + 20
            while "payment_received" not in seen and time.monotonic() < deadline:
                tick = json.loads(process.stdout.readline())  # one line per tick
                seen += [n["kind"] for n in tick["notices"]]
            assert seen == ["payment_received"]
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
