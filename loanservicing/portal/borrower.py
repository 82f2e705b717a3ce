"""The borrower's page (``/me``): their loans, a payoff quote for a date they choose, their
credit record and score as others see them, and, with the data-sharing deployment, the
attestations about them, the consents they gave and every access to their data in the vault's
log; each figure with a sentence saying what it means. Every table is also a CSV download."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loanservicing.amounts import money
from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.state import LoanStatus
from loanservicing.portal.access import SignedIn, require_signed_in
from loanservicing.portal.borrower_data import (
    access_log_table,
    attestations_table,
    consents_table,
    erased,
)
from loanservicing.portal.chain_clock import index_clock
from loanservicing.portal.data_sharing import PortalDataSharing
from loanservicing.portal.errors import PayoffRefused
from loanservicing.portal.loan_tables import credit_table, day, next_payment_text
from loanservicing.portal.pages import Pages, named
from loanservicing.portal.payoff_quote import payoff_table, quote_time
from loanservicing.portal.score_tables import score_table
from loanservicing.portal.tables import Table

__all__ = ["borrower_routes"]


def borrower_routes(
    pages: Pages, symbol_of: Callable[[str], str], data: PortalDataSharing | None
) -> list[Route]:
    def _mine(db: IndexDB, who: SignedIn, query: dict[str, str]) -> dict[str, Any]:
        now, block = index_clock(db)
        decimals_of = db.token_decimals()
        states = [s for s in db.loans().values() if who.is_(s.borrower)]
        own = [snapshot_at(s, now, decimals_of.get(s.token, 0)) for s in states]
        loans = Table(
            "loans",
            "Your loans",
            ["loan", "status", "next payment", "outstanding principal", "days late"],
            [
                [
                    str(s.loan_id),
                    s.status,
                    next_payment_text(s, symbol_of(s.token)),
                    money(s.principal_outstanding, s.decimals, symbol_of(s.token)),
                    str(s.days_past_due),
                ]
                for s in own
            ],
            numeric=frozenset({0, 3, 4}),
            links=[f"/loans/{s.loan_id}" for s in own],
        )
        record = db.credit_records([who.address]).get(who.address)
        tables = [loans, credit_table(record, pages.symbol, explained=True)]
        tables.append(score_table(record, explained=True))
        open_loans = [s for s in states if s.status is not LoanStatus.CLOSED]
        chosen = next((s for s in open_loans if str(s.loan_id) == query.get("loan")), None)
        payoff_error = ""
        on = query.get("on", "")
        if chosen is not None and on:
            try:
                at = quote_time(chosen, on, now)
            except PayoffRefused as exc:
                payoff_error = str(exc)
            else:
                d = decimals_of.get(chosen.token, 0)
                tables.append(payoff_table(chosen, at, d, symbol_of(chosen.token), on))
        elif query.get("loan"):
            payoff_error = "Choose one of your open loans."
        if data is not None:
            tables += [
                attestations_table(data, who.address, now),
                consents_table(data, who.address, now),
                access_log_table(data, who.address),
            ]
        return {
            "tables": {t.name: t for t in tables},
            "now": day(now),
            "block": block,
            "open_loans": [s.loan_id for s in open_loans],
            "quote_loan": chosen.loan_id if chosen is not None else None,
            "quote_on": on or day(now),
            "payoff_error": payoff_error,
            "query": request_query(query),
            "data_sharing": data is not None,
            "vault": data is not None and data.vault is not None,
            "erased": data is not None and erased(data, who.address),
        }

    def mine(request: Request) -> Response:
        who = require_signed_in(request)
        with pages.index() as db:
            context = _mine(db, who, dict(request.query_params))
        return pages.page(request, "borrower.html", **context)

    def mine_csv(request: Request) -> Response:
        who = require_signed_in(request)
        with pages.index() as db:
            tables = _mine(db, who, dict(request.query_params))["tables"]
        return pages.csv(named(tables, request.path_params["name"]), "my-")

    return [Route("/me", mine), Route("/me/{name}.csv", mine_csv)]


def request_query(query: dict[str, str]) -> str:
    """The payoff quote's query string for its CSV link (``?loan=3&on=2027-03-15``)."""
    if not query.get("loan") or not query.get("on"):
        return ""
    return "?" + urlencode({"loan": query["loan"], "on": query["on"]})
