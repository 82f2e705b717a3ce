"""The portal's Starlette application: the lender's portfolio, collections queue and loan
pages, the borrower's own loans, Sign-In with Ethereum (and, when started with it, the
dev-chain sign-in), CSV downloads of every table, and the live part of a loan page (polled
every second).

Servicing staff (the ledger's ``SERVICER_ROLE``) see every loan; a lender (``ORIGINATOR_ROLE``,
or the lender of an indexed loan) sees the portfolio, collections queue and pages of the loans
it lends; a borrower their own loans.

Every page reads the event index (:class:`~loanservicing.indexing.database.IndexDB`, one
connection per request) at the chain time of its newest indexed block; the only chain call is
the role check when someone signs in. Regulators (the consent registry's ``REGULATOR_ROLE``)
see the regulator's pages (:mod:`~loanservicing.portal.regulator`); the analytics
(:mod:`~loanservicing.portal.analytics`) and the borrower's page
(:mod:`~loanservicing.portal.borrower`) are routes of their own modules. The data-sharing
tables (attestations, consents, the vault's log) and the audit bundle read the chain and the
vault, when the portal was started with them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from loanservicing.indexing.database import IndexDB
from loanservicing.ledger.portfolio import snapshot_at
from loanservicing.ledger.state import LoanSnapshot, LoanState
from loanservicing.monitoring.collections import collections_queue
from loanservicing.monitoring.notices import NoticeStore
from loanservicing.monitoring.repayment_history import repayments_of
from loanservicing.portal.access import (
    SignedIn,
    require_lender,
    require_signed_in,
    sign_in,
    signed_in,
)
from loanservicing.portal.analytics import analytics_routes
from loanservicing.portal.audit_bundles import AuditDesk
from loanservicing.portal.borrower import borrower_routes
from loanservicing.portal.chain_clock import index_clock
from loanservicing.portal.collections_table import collections_table
from loanservicing.portal.csrf import valid_csrf
from loanservicing.portal.data_sharing import PortalDataSharing
from loanservicing.portal.dev_sign_in import DevAccounts, check_loopback
from loanservicing.portal.errors import DevSignInRefused, SignInRefused
from loanservicing.portal.loan_tables import (
    credit_table,
    day,
    next_payment_text,
    notices_table,
    repayments_table,
    schedule_table,
    terms_table,
)
from loanservicing.portal.pages import Pages, named
from loanservicing.portal.portfolio_tables import other_token_loans, portfolio_tables
from loanservicing.portal.regulator import regulator_routes
from loanservicing.portal.roles import Standing
from loanservicing.portal.schedule import installments
from loanservicing.portal.score_tables import score_table
from loanservicing.portal.security_headers import SecurityHeaders
from loanservicing.portal.settings import PortalSettings
from loanservicing.portal.siwe_sign_in import NonceBook, verify_sign_in
from loanservicing.portal.tables import Table

__all__ = ["create_app"]

_HERE = Path(__file__).resolve().parent
_NONCE = "siwe_nonce"


def create_app(
    settings: PortalSettings,
    standing_of: Callable[[str], Standing],
    symbol_of: Callable[[str], str],
    dev_accounts: DevAccounts | None = None,
    is_regulator: Callable[[str], bool] | None = None,
    data: PortalDataSharing | None = None,
    audit: AuditDesk | None = None,
) -> Starlette:
    """The portal over ``settings.db_path``; ``standing_of(address)`` asks the ledger which
    role of a lender an address holds, ``symbol_of(token)`` gives a token's symbol. With
    ``dev_accounts`` (made by :func:`~loanservicing.portal.dev_sign_in.dev_accounts`, which
    checks the chain) the sign-in page also offers them, signed in by the portal itself.
    ``is_regulator(address)`` asks the consent registry for its regulator role; ``data`` (the
    data-sharing contracts and vault) adds the borrower's attestations, consents and access
    log; ``audit`` the regulator's audit bundles."""
    if dev_accounts is not None:
        check_loopback(*settings.allowed_hosts)  # the host names a message may be for
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    nonces = NonceBook(settings.nonce_ttl)
    symbol = settings.token_symbol
    pages = Pages(settings, templates)
    index, page, csv_response = pages.index, pages.page, pages.csv

    # ------------------------------------------------------------------ sign-in
    def home(request: Request) -> Response:
        who = signed_in(request)
        target = "/sign-in" if who is None else who.landing
        return RedirectResponse(target, status_code=303)

    def sign_in_page(request: Request) -> Response:
        offered = dev_accounts.offered if dev_accounts is not None else []
        return page(request, "sign_in.html", chain_id=settings.chain_id, dev_accounts=offered)

    def nonce(request: Request) -> Response:
        """A new nonce for this session, and the address to sign in as in EIP-55 form (the
        message must carry it so; wallets often give it in lower case)."""
        address = request.query_params.get("address", "")
        if not is_address(address):
            return JSONResponse({"error": "Name the address to sign in as."}, 400)
        issued = nonces.issue()
        request.session[_NONCE] = issued
        return JSONResponse(
            {
                "nonce": issued,
                "chain_id": settings.chain_id,
                "ttl": settings.nonce_ttl,
                "address": to_checksum_address(address),
            },
            headers={"cache-control": "no-store"},
        )

    async def verify(request: Request) -> Response:
        try:
            body = await request.json()
            message, signature = str(body["message"]), str(body["signature"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "Post the message and its signature."}, 400)
        try:
            who = _verified_sign_in(request, message, signature)
        except SignInRefused as exc:
            return JSONResponse({"error": str(exc)}, 401)
        return JSONResponse(
            {
                "address": who.address,
                "lender": who.lender,
                "servicer": who.servicer,
                "regulator": who.regulator,
                "redirect": who.landing,
            }
        )

    def _verified_sign_in(request: Request, message: str, signature: str) -> SignedIn:
        """Check a signed sign-in message against this session's nonce, the request's host
        and the chain, then start the session of the address that signed it."""
        session_nonce = request.session.pop(_NONCE, None)
        host = request.headers.get("host", "")
        address = verify_sign_in(
            message,
            signature,
            domain=host,
            origin=f"{request.url.scheme}://{host}",
            chain_id=settings.chain_id,
            session_nonce=session_nonce if isinstance(session_nonce, str) else None,
            nonces=nonces,
        )
        standing = standing_of(address)
        servicer = standing is Standing.SERVICER
        lender = servicer or standing is Standing.ORIGINATOR or _lends_any(address)
        regulator = is_regulator is not None and is_regulator(address)
        sign_in(request, address, lender, servicer, regulator)
        return SignedIn(address, lender, servicer, regulator)

    def _lends_any(address: str) -> bool:
        with index() as db:
            return any(s.lender.lower() == address.lower() for s in db.loans().values())

    async def dev_sign_in(request: Request) -> Response:
        """Sign in as a dev account: the portal builds the message a wallet would, signs it
        with the account's key and verifies it as it verifies a wallet's."""
        assert dev_accounts is not None
        form = await request.form()
        if not valid_csrf(request, form.get("csrf")):
            raise HTTPException(403, "The form's CSRF token is missing or wrong; reload the page.")
        address = str(form.get("address", ""))
        host = request.headers.get("host", "")
        request.session[_NONCE] = issued = nonces.issue()
        try:
            message, signature = dev_accounts.sign_in_message(
                address,
                domain=host,
                origin=f"{request.url.scheme}://{host}",
                chain_id=settings.chain_id,
                nonce=issued,
                ttl=settings.nonce_ttl,
            )
        except DevSignInRefused as exc:
            request.session.pop(_NONCE, None)
            raise HTTPException(403, str(exc)) from None
        try:
            who = _verified_sign_in(request, message, signature)
        except SignInRefused as exc:
            raise HTTPException(401, str(exc)) from None
        return RedirectResponse(who.landing, status_code=303)

    async def sign_out(request: Request) -> Response:
        form = await request.form()
        if not valid_csrf(request, form.get("csrf")):
            raise HTTPException(403, "The form's CSRF token is missing or wrong; reload the page.")
        request.session.clear()
        return RedirectResponse("/sign-in", status_code=303)

    # ----------------------------------------------------------------- lender
    def _portfolio(db: IndexDB, who: SignedIn) -> tuple[int, int, dict[str, Table]]:
        now, block = index_clock(db)
        shown = _lent_by(who)
        return now, block, portfolio_tables(db, now, block, settings.token, symbol, shown)

    def portfolio(request: Request) -> Response:
        who = require_lender(request)
        with index() as db:
            now, block, tables = _portfolio(db, who)
            others = other_token_loans(db, settings.token, _lent_by(who))
        return page(
            request,
            "portfolio.html",
            tables=list(tables.values()),
            now=day(now),
            block=block,
            other_token_loans=others,
        )

    def portfolio_csv(request: Request) -> Response:
        who = require_lender(request)
        with index() as db:
            tables = _portfolio(db, who)[2]
        return csv_response(named(tables, request.path_params["name"]), "portfolio-")

    def _collections(db: IndexDB, who: SignedIn) -> tuple[int, int, Table]:
        now, block = index_clock(db)
        queue = [item for item in collections_queue(db, now) if who.lends(item.loan.lender)]
        return now, block, collections_table(queue, symbol_of)

    def collections(request: Request) -> Response:
        who = require_lender(request)
        with index() as db:
            now, block, table = _collections(db, who)
        return page(request, "collections.html", table=table, now=day(now), block=block)

    def collections_csv(request: Request) -> Response:
        who = require_lender(request)
        with index() as db:
            table = _collections(db, who)[2]
        return csv_response(named({table.name: table}, request.path_params["name"]), "")

    # ------------------------------------------------------------------- loans
    def _loan(db: IndexDB, loan_id: int, who: SignedIn) -> dict[str, Any]:
        state = db.loan(loan_id)
        if state is None:
            raise HTTPException(404, f"There is no loan {loan_id} in the index.")
        if not who.may_see(state.borrower, state.lender):
            raise HTTPException(403, "This loan is not yours.")
        now, block = index_clock(db)
        decimals = db.token_decimals().get(state.token, 0)
        current = snapshot_at(state, now, decimals)
        return _loan_context(db, state, current, who, now, block)

    def _loan_context(
        db: IndexDB,
        state: LoanState,
        current: LoanSnapshot,
        who: SignedIn,
        now: int,
        block: int,
    ) -> dict[str, Any]:
        d, loan_symbol = current.decimals, symbol_of(state.token)
        lender_view = who.lends(state.lender)
        paid = repayments_of(db, [state.loan_id])[state.loan_id]
        record = db.credit_records([state.borrower]).get(state.borrower)
        tables = {
            t.name: t
            for t in (
                schedule_table(
                    installments(state, now, db.logs_of_loans([state.loan_id])), d, loan_symbol
                ),
                repayments_table(paid, d, loan_symbol),
                notices_table(NoticeStore(db).notices(loan_id=state.loan_id), loan_symbol),
                credit_table(record, symbol, explained=not lender_view),
                score_table(record, explained=not lender_view),
            )
        }
        terms = terms_table(current, state, loan_symbol)
        return {
            "loan": current,
            "terms": terms,
            "figures": dict(terms),
            "next_payment": next_payment_text(current, loan_symbol),
            "tables": tables,
            "now": day(now),
            "block": block,
            "lender_view": lender_view,
        }

    def loan_page(request: Request) -> Response:
        who = require_signed_in(request)
        with index() as db:
            context = _loan(db, request.path_params["loan_id"], who)
        return page(request, "loan.html", **context)

    def loan_live(request: Request) -> Response:
        who = require_signed_in(request)
        with index() as db:
            context = _loan(db, request.path_params["loan_id"], who)
        response = page(request, "loan_live.html", **context)
        response.headers["cache-control"] = "no-store"
        return response

    def loan_csv(request: Request) -> Response:
        who = require_signed_in(request)
        loan_id = request.path_params["loan_id"]
        with index() as db:
            tables = _loan(db, loan_id, who)["tables"]
        return csv_response(named(tables, request.path_params["name"]), f"loan-{loan_id}-")

    # ------------------------------------------------------------------ errors
    def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 401 and request.method == "GET":
            return RedirectResponse("/sign-in", status_code=303)
        return page(
            request, "error.html", status=exc.status_code, status_code=exc.status_code,
            detail=exc.detail,
        )  # fmt: skip

    # The dev sign-in's route exists only when the portal was started with it.
    dev_routes = (
        [] if dev_accounts is None else [Route("/dev-sign-in", dev_sign_in, methods=["POST"])]
    )
    routes = [
        Route("/", home),
        Route("/sign-in", sign_in_page),
        Route("/siwe/nonce", nonce),
        Route("/siwe/verify", verify, methods=["POST"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        *dev_routes,
        Route("/portfolio", portfolio),
        Route("/portfolio/{name}.csv", portfolio_csv),
        Route("/collections", collections),
        Route("/collections/{name}.csv", collections_csv),
        Route("/loans/{loan_id:int}", loan_page),
        Route("/loans/{loan_id:int}/live", loan_live),
        Route("/loans/{loan_id:int}/{name}.csv", loan_csv),
        *borrower_routes(pages, symbol_of, data),
        *analytics_routes(pages),
        *regulator_routes(pages, audit),
        Mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static"),
    ]
    middleware = [
        # Sign-in messages are bound to the request's host: only the portal's own names.
        Middleware(TrustedHostMiddleware, allowed_hosts=list(settings.allowed_hosts)),
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=settings.session_secret,
            session_cookie="portal_session",
            max_age=settings.session_max_age,
            same_site="strict",
            https_only=settings.https_only,
        ),
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: refused},
    )
    app.state.session_max_age = settings.session_max_age
    return app


def _lent_by(who: SignedIn) -> Callable[[LoanState], bool]:
    """Whether the lender pages of ``who`` show a loan (a servicer's show every loan)."""
    return lambda state: who.lends(state.lender)
