"""``loan restructure propose --dry-run``: the proposed schedule beside the installments left
now, with what each would cost in all; nothing is sent."""

from __future__ import annotations

from itertools import zip_longest
from typing import Any

from rich.console import Console

from loanservicing.amounts import money, rate
from loanservicing.cli.app import CliState
from loanservicing.cli.output import Column, dated, emit, fitted_table
from loanservicing.ledger.installments import Installment
from loanservicing.servicing.restructure_preview import RestructurePreview
from loanservicing.servicing.schedule_view import ScheduleRow

__all__ = ["emit_preview"]


def _row_json(r: ScheduleRow | Installment) -> dict[str, Any]:
    return {
        "number": r.number,
        **dated("due", r.due_timestamp),
        "due_date_local": r.due_date,
        "principal": r.principal,
        "interest": r.interest,
        "total": r.total,
        "paid": r.paid if isinstance(r, ScheduleRow) else 0,
        "status": r.status if isinstance(r, ScheduleRow) else "proposed",
    }


def emit_preview(state: CliState, p: RestructurePreview, symbol: str) -> None:
    """Print (or ``--json``) a restructuring preview in ``symbol``, the loan's token."""
    d = p.decimals
    document = {
        "dry_run": True,
        "loan_id": p.loan_id,
        "decimals": d,
        **dated("as_of", p.as_of_timestamp),
        "apr_bps": p.apr_bps,
        "proposed_apr_bps": p.proposed_apr_bps,
        "principal_outstanding": p.principal_outstanding,
        "carried_interest": p.carried_interest,
        "current": {
            "to_pay": p.current_to_pay,
            "interest": p.current_interest,
            "installments": [_row_json(r) for r in p.current],
        },
        "proposed": {
            "to_pay": p.proposed_to_pay,
            "interest": p.proposed_interest,
            "installments": [_row_json(r) for r in p.proposed],
        },
    }

    def render(console: Console) -> None:
        columns = [
            Column("now: #", "right"),
            Column("due"),
            Column(f"to pay\n{symbol}", "right"),
            Column("new: #", "right"),
            Column("due "),
            Column(f"installment\n{symbol}", "right"),
        ]
        cells = [
            [
                str(old.number) if old else "",
                old.due_date if old else "",
                money((old.total or 0) - (old.paid or 0), d) if old else "",
                str(new.number) if new else "",
                new.due_date if new else "",
                money(new.total, d) if new else "",
            ]
            for old, new in zip_longest(p.current, p.proposed)
        ]
        title = f"Loan {p.loan_id}: the installments left now and the proposed ones"
        console.print(fitted_table(title, columns, cells, console.width))
        console.print(
            f"Now: {len(p.current)} installments at {rate(p.apr_bps)}, "
            f"{money(p.current_to_pay, d, symbol)} to pay "
            f"({money(p.current_interest, d, symbol)} interest)."
        )
        console.print(
            f"Proposed: {len(p.proposed)} installments at {rate(p.proposed_apr_bps)} on "
            f"{money(p.principal_outstanding, d, symbol)} outstanding, "
            f"{money(p.proposed_to_pay, d, symbol)} to pay "
            f"({money(p.proposed_interest, d, symbol)} interest, of which "
            f"{money(p.carried_interest, d, symbol)} carried over), if the borrower accepts now."
        )
        console.print("Nothing was sent: drop --dry-run to propose.", style="dim")

    emit(state, document, render)
