"""The portfolio analytics page (``/analytics``): roll-rate matrix, vintage curves and IFRS 9
staging, each a chart, a table and a CSV download. A lender sees its own loans; servicing
staff and regulators every lender's."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loanservicing.ledger.state import LoanState
from loanservicing.portal.access import SignedIn, require_analyst
from loanservicing.portal.analytics_tables import Analytics, analytics
from loanservicing.portal.chain_clock import index_clock
from loanservicing.portal.loan_tables import day
from loanservicing.portal.pages import Pages, named

__all__ = ["analytics_routes"]


def analytics_routes(pages: Pages) -> list[Route]:
    token = pages.settings.token

    def _analytics(who: SignedIn) -> tuple[int, int, Analytics]:
        def shown(state: LoanState) -> bool:
            return who.sees_every_loan or who.lends(state.lender)

        with pages.index() as db:
            now, block = index_clock(db)
            return now, block, analytics(db, now, token, pages.symbol, shown)

    def page(request: Request) -> Response:
        who = require_analyst(request)
        now, block, result = _analytics(who)
        return pages.page(
            request,
            "analytics.html",
            tables=result.tables,
            charts=result.charts,
            roll_period=result.roll_period,
            now=day(now),
            block=block,
            every_lender=who.sees_every_loan,
        )

    def csv(request: Request) -> Response:
        who = require_analyst(request)
        tables = _analytics(who)[2].tables
        return pages.csv(named(tables, request.path_params["name"]), "analytics-")

    return [Route("/analytics", page), Route("/analytics/{name}.csv", csv)]
