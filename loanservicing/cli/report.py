"""``report``: the delinquency (aging) report from the event index, and the regulator's
audit bundle (``audit``, ``audit-verify``) and ``privacy-scan``."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from web3.contract import Contract

from loanservicing.amounts import iso_date, money, share
from loanservicing.cli.app import state_of
from loanservicing.cli.data import DataSession
from loanservicing.cli.index import deployment_indexer
from loanservicing.cli.options import ADDRESS, data_options, db_option, json_option
from loanservicing.cli.output import Column, emit, fitted_table
from loanservicing.demo.data_sharing import personal_values
from loanservicing.indexing.database import IndexDB
from loanservicing.monitoring.monitor import Monitor
from loanservicing.monitoring.reports import aging_report
from loanservicing.monitoring.service import MonitorService
from loanservicing.sharing.audit import AuditSources, export_bundle, verify_bundle
from loanservicing.sharing.errors import DataSharingError
from loanservicing.sharing.privacy_scan import scan_chain

__all__ = ["report"]


@click.group()
@data_options
def report() -> None:
    """Reports over the portfolio, and for regulators."""


@report.command("delinquency")
@db_option
@json_option
@click.pass_context
def report_delinquency(ctx: click.Context, db_path: str) -> None:
    """Aging table at the chain's current time: loans and outstanding principal per days-past-
    due bucket, defaulted loans, PAR30 and PAR90 (syncs the index first)."""
    state = state_of(ctx)
    with IndexDB(db_path) as db:
        indexer, deployment = deployment_indexer(state, db)
        service = MonitorService(indexer, Monitor(db))
        indexer.sync()
        now, block = service.chain_clock()
        report = aging_report(db, now, block, deployment.token.address)
    document = report.as_dict()

    symbol = state.servicer(write=False).token_symbol

    def render(console: Console) -> None:
        d = report.decimals
        columns = [
            Column("days past due"),
            Column("loans", "right"),
            Column(f"outstanding principal\n{symbol}", "right"),
            Column("share", "right"),
        ]
        rows = [
            [
                row.bucket,
                str(row.loans),
                money(row.principal_outstanding, d),
                share(
                    Decimal(row.principal_outstanding) / report.principal_outstanding
                    if report.principal_outstanding
                    else Decimal(0)
                ),
            ]
            for row in report.rows
        ]
        rows.append(
            [
                "[bold]total[/bold]",
                str(sum(r.loans for r in report.rows)),
                money(report.principal_outstanding, d),
                "",
            ]
        )
        title = f"Delinquency at {iso_date(now)} (block {block})"
        console.print(fitted_table(title, columns, rows, console.width))
        console.print(f"PAR30 {share(report.par30)}   PAR90 {share(report.par90)}")

    emit(state, document, render)


@report.command("audit")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True)
@click.option(
    "--from-block",
    type=click.IntRange(min=0),
    default=None,
    help="First block (default: the data deployment's block, else 0).",
)
@click.option("--to-block", type=click.IntRange(min=0), default=None, help="Default: latest.")
@click.option("--ledger", type=ADDRESS, help="Ledger address (default: the deployment file's).")
@click.option("--credit-registry", type=ADDRESS, help="Default: the deployment file's.")
@data_options
@json_option
@click.pass_context
def report_audit(
    ctx: click.Context,
    out: Path,
    from_block: int | None,
    to_block: int | None,
    ledger: str | None,
    credit_registry: str | None,
) -> None:
    """Write the regulator's audit bundle (CSV + manifest, no personal data) into OUT."""
    session = DataSession(ctx)
    ledger_contract, registry_contract = session.ledger_sources(ledger, credit_registry)
    contracts = session.contracts()
    sources = AuditSources(
        ledger_contract,
        registry_contract,
        contracts.attestation_registry,
        contracts.consent_registry,
    )
    manifest = export_bundle(session.w3, sources, out, from_block or 0, to_block)
    result = {
        "out": str(out),
        **{k: manifest[k] for k in ("chain_id", "from_block", "to_block", "block_hash")},
        "files": {n: f["rows"] for n, f in manifest["files"].items()},
    }

    def render(c: Console) -> None:
        table = Table(
            title=f"Audit bundle in {out} (blocks {manifest['from_block']}.."
            f"{manifest['to_block']})",
            title_justify="left",
        )
        table.add_column("file")
        table.add_column("rows", justify="right")
        for name, rows in result["files"].items():
            table.add_row(name, str(rows))
        c.print(table)

    session.emit(result, render)


@report.command("audit-verify")
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False, exists=True))
@json_option
@click.pass_context
def report_audit_verify(ctx: click.Context, directory: Path) -> None:
    """Re-check every row and the manifest of the bundle in DIRECTORY against the chain; name
    each mismatch and exit 1 on any."""
    session = DataSession(ctx)
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf8"))
        addresses = manifest["contracts"]
    except (OSError, ValueError, KeyError) as exc:
        raise DataSharingError(f"The bundle's manifest cannot be read: {exc}.") from None

    def bind(name: str, artifact: str) -> Contract | None:
        address = addresses.get(name)
        return None if address is None else session.contract(address, artifact)

    ledger, registry = bind("ledger", "LoanLedger"), bind("credit_registry", "CreditRegistry")
    if ledger is None or registry is None:
        raise DataSharingError("The bundle's manifest names no ledger or credit registry.")
    sources = AuditSources(
        ledger,
        registry,
        bind("attestation_registry", "AttestationRegistry"),
        bind("consent_registry", "ConsentRegistry"),
    )
    outcome = verify_bundle(session.w3, directory, sources)
    result = {
        "directory": str(directory),
        "ok": outcome.ok,
        "files_checked": outcome.files_checked,
        "rows_checked": outcome.rows_checked,
        "mismatches": outcome.mismatches,
    }

    def render(c: Console) -> None:
        if outcome.ok:
            c.print(
                f"The bundle matches the chain: {outcome.files_checked} files, "
                f"{outcome.rows_checked} rows checked."
            )
        else:
            c.print(f"{len(outcome.mismatches)} mismatches:")
            for line in outcome.mismatches:
                c.print(f"  - {line}", markup=False)

    session.emit(result, render)
    if not outcome.ok:
        ctx.exit(1)


@report.command("privacy-scan")
@click.option("--value", "values", multiple=True, help="A personal value to look for.")
@click.option(
    "--values-file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="A file with one personal value per line.",
)
@click.option(
    "--sample-people",
    is_flag=True,
    help="Also look for every value of the data-sharing scenario's sample people.",
)
@click.option("--from-block", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--to-block", type=click.IntRange(min=0), default=None, help="Default: latest.")
@data_options
@json_option
@click.pass_context
def report_privacy_scan(
    ctx: click.Context,
    values: tuple[str, ...],
    values_file: Path | None,
    sample_people: bool,
    from_block: int,
    to_block: int | None,
) -> None:
    """Search every transaction's calldata and every log of the chain for personal values
    (as UTF-8 and as hex text, case-insensitive); exit 1 when any is found."""
    session = DataSession(ctx)
    wanted = list(values)
    if values_file is not None:
        wanted += [line.strip() for line in values_file.read_text(encoding="utf8").splitlines()]
    if sample_people:
        wanted += personal_values()
    wanted = [v for v in wanted if v]
    if not wanted:
        raise DataSharingError(
            "Name the values to look for: --value, --values-file or --sample-people."
        )
    scan = scan_chain(session.w3, wanted, from_block, to_block)
    result = {
        "values": len(set(wanted)),
        "blocks": scan.blocks,
        "transactions": scan.transactions,
        "logs": scan.logs,
        "bytes_scanned": scan.bytes_scanned,
        "findings": [asdict(f) for f in scan.findings],
    }

    def render(c: Console) -> None:
        c.print(
            f"Scanned {scan.blocks} blocks, {scan.transactions} transactions and "
            f"{scan.logs} logs for {result['values']} values."
        )
        for f in scan.findings:
            c.print(
                f"  FOUND {f.value!r} ({f.form}) in the {f.where} of tx {f.tx_hash} "
                f"(block {f.block_number})",
                markup=False,
            )
        if not scan.findings:
            c.print("None of the values appears on chain.")

    session.emit(result, render)
    if scan.findings:
        ctx.exit(1)
