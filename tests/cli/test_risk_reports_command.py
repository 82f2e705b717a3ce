"""``report roll-rates``, ``report vintages`` and ``report ifrs9``: JSON, tables and CSV from
the synced index, and bad input refused in one sentence."""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from loanservicing.chain.accounts import dev_signer
from tests.cli.driver import Cli

BORROWER = dev_signer(1).address


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf8") as f:
        return list(csv.DictReader(f))


def test_risk_reports_from_the_index(run: Cli, tmp_path: Path) -> None:
    start = dt.datetime.fromtimestamp(run.json("chain", "time")["timestamp"], dt.UTC)
    run.create(BORROWER, "1000")
    run.create(dev_signer(2).address, "3000")
    run.json("chain", "advance", "100d")
    month = f"{start.year}-{start.month:02d}"
    db = ("--db", str(tmp_path / "index.db"))
    rolls = run.json("report", "roll-rates", "--from", month, *db,
                     "--csv", str(tmp_path / "r.csv"))  # fmt: skip
    assert len(rolls["matrices"]) >= 2 and rolls["matrices"][0]["from_month"] == month
    first = rolls["matrices"][0]
    assert sum(first["principal"]["current"].values()) == 4_000 * 10**6  # both current then
    rows = _rows(tmp_path / "r.csv")
    assert len(rows) == len(rolls["matrices"]) * 6 * 7
    assert {r["share"] for r in rows if r["from_bucket"] == "current"} >= {"1.000000"}
    vintages = run.json("report", "vintages", *db, "--csv", str(tmp_path / "v.csv"))
    (cohort,) = vintages["vintages"]
    assert (cohort["month"], cohort["loans"], cohort["principal"]) == (month, 2, 4_000 * 10**6)
    assert cohort["ever_30_plus"][-1] == 4_000 * 10**6  # neither paid: both over 30 days late
    assert [r["ever_30_plus_rate"] for r in _rows(tmp_path / "v.csv")] == cohort[
        "ever_30_plus_rate"
    ]
    (tmp_path / "pd.json").write_text(json.dumps({"2": "0.2", "3": "0.9"}))
    staged = run.json("report", "ifrs9", *db, "--pd", str(tmp_path / "pd.json"),
                      "--csv", str(tmp_path / "i.csv"))  # fmt: skip
    assert staged["pd"] == {"1": "0.01", "2": "0.2", "3": "0.9"} and staged["lgd"] == "0.45"
    assert {loan["stage"] for loan in staged["loans"]} == {2}  # 31 to 90 days past due
    assert staged["ecl"] == sum(loan["ecl"] for loan in staged["loans"])
    for row, loan in zip(_rows(tmp_path / "i.csv"), staged["loans"], strict=True):
        assert Decimal(row["ecl"]) * 10**6 == loan["ecl"] and row["reason"] == loan["reason"]
    text = run.raw("report", "ifrs9", *db).stdout
    assert "IFRS 9 at" in text and "total" in text and "…" not in text
    assert "Roll rates" in run.raw("report", "roll-rates", "--from", month, *db).stdout

    (tmp_path / "float.json").write_text('{"1": 0.01}')
    (tmp_path / "stage4.json").write_text('{"4": "0.5"}')
    (tmp_path / "lgd.json").write_text('{"lgd": "1.5"}')
    cases = [
        (("report", "roll-rates", "--from", "March", *db), "is not a month such as 2027-03"),
        (("report", "roll-rates", "--from", month, "--to", "2099-01", *db), "has not ended"),
        (("report", "roll-rates", "--from", month, "--to", month, *db), "a roll needs two"),
        (("report", "ifrs9", *db, "--pd", str(tmp_path / "float.json")), "written as a string"),
        (("report", "ifrs9", *db, "--pd", str(tmp_path / "stage4.json")), "stages are 1-3"),
        (("report", "ifrs9", *db, "--lgd", str(tmp_path / "lgd.json")), "a share from 0 to 1"),
        (("report", "ifrs9", *db, "--as-of", "2099-01-01"), "after the index's time"),
    ]
    for args, fragment in cases:
        run.fails(*args, match=fragment)
