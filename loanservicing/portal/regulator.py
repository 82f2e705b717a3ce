"""The regulator's pages: portfolio-wide figures (every lender's loans), the audit bundle of a
block range as a download, and the result of verifying it against the chain. Only accounts
holding the consent registry's regulator role get in (checked at sign-in); lenders and
borrowers get 403. The bundle form carries the session's CSRF token."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from loanservicing.portal.access import require_regulator
from loanservicing.portal.audit_bundles import AuditDesk, BundleResult
from loanservicing.portal.chain_clock import index_clock
from loanservicing.portal.csrf import valid_csrf
from loanservicing.portal.errors import BundleNotFound
from loanservicing.portal.loan_tables import day
from loanservicing.portal.pages import Pages, named
from loanservicing.portal.portfolio_tables import other_token_loans, portfolio_tables
from loanservicing.portal.tables import Table
from loanservicing.sharing.errors import AuditMismatch

__all__ = ["regulator_routes"]

_CSRF_REFUSED = "The form's CSRF token is missing or wrong; reload the page."


def _block(text: object, what: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise HTTPException(400, f"The {what} must be a block number.") from None
    if value < 0:
        raise HTTPException(400, f"The {what} must not be negative.")
    return value


def _files_table(result: BundleResult) -> Table:
    files = result.manifest.get("files", {})
    return Table(
        "bundle-files",
        "Files of the bundle",
        ["file", "rows", "SHA-256"],
        [
            [name, str(files.get(name, {}).get("rows", "")), files.get(name, {}).get("sha256", "")]
            for name in result.files
        ],
        numeric=frozenset({1}),
        links=[f"/regulator/audit/{result.bundle_id}/files/{name}" for name in result.files],
    )


def regulator_routes(pages: Pages, desk: AuditDesk | None) -> list[Route]:
    settings = pages.settings

    def _tables() -> tuple[int, int, dict[str, Table], int]:
        with pages.index() as db:
            now, block = index_clock(db)
            tables = portfolio_tables(db, now, block, settings.token, pages.symbol)
            return now, block, tables, other_token_loans(db, settings.token)

    def home(request: Request) -> Response:
        require_regulator(request)
        now, block, tables, others = _tables()
        return pages.page(
            request,
            "regulator.html",
            tables=list(tables.values()),
            now=day(now),
            block=block,
            other_token_loans=others,
            audit=desk is not None,
            head=desk.head() if desk is not None else None,
            first_block=settings.first_block,
        )

    def csv(request: Request) -> Response:
        require_regulator(request)
        tables = _tables()[2]
        return pages.csv(named(tables, request.path_params["name"]), "regulator-")

    def _desk() -> AuditDesk:
        if desk is None:
            raise HTTPException(404, "This portal was started without the data-sharing contracts.")
        return desk

    async def request_bundle(request: Request) -> Response:
        who = require_regulator(request)
        form = await request.form()
        if not valid_csrf(request, form.get("csrf")):
            raise HTTPException(403, _CSRF_REFUSED)
        audit = _desk()
        first = _block(form.get("from_block", ""), "first block")
        last = _block(form.get("to_block", ""), "last block")
        if last < first:
            raise HTTPException(400, "The last block must not come before the first.")
        try:
            bundle_id = await run_in_threadpool(audit.export, first, last, who.address)
        except AuditMismatch as exc:
            raise HTTPException(400, str(exc)) from None
        return RedirectResponse(f"/regulator/audit/{bundle_id}", status_code=303)

    def _result(request: Request) -> BundleResult:
        require_regulator(request)
        try:
            return _desk().result(request.path_params["bundle_id"])
        except BundleNotFound as exc:
            raise HTTPException(404, str(exc)) from None

    def bundle_page(request: Request) -> Response:
        result = _result(request)
        return pages.page(request, "audit_bundle.html", result=result, files=_files_table(result))

    async def reverify(request: Request) -> Response:
        who = require_regulator(request)
        form = await request.form()
        if not valid_csrf(request, form.get("csrf")):
            raise HTTPException(403, _CSRF_REFUSED)
        bundle_id = request.path_params["bundle_id"]
        try:
            await run_in_threadpool(_desk().verify, bundle_id, who.address)
        except BundleNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        return RedirectResponse(f"/regulator/audit/{bundle_id}", status_code=303)

    def bundle_zip(request: Request) -> Response:
        result = _result(request)
        name = f"audit-{result.manifest['from_block']}-{result.manifest['to_block']}.zip"
        return Response(
            _desk().zip(result.bundle_id),
            media_type="application/zip",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    def bundle_file(request: Request) -> Response:
        result = _result(request)
        try:
            path = _desk().file(result.bundle_id, request.path_params["name"])
        except BundleNotFound as exc:
            raise HTTPException(404, str(exc)) from None
        media = "application/json" if path.suffix == ".json" else "text/csv; charset=utf-8"
        return FileResponse(path, media_type=media, filename=path.name)

    return [
        Route("/regulator", home),
        Route("/regulator/{name}.csv", csv),
        Route("/regulator/audit", request_bundle, methods=["POST"]),
        Route("/regulator/audit/{bundle_id}", bundle_page),
        Route("/regulator/audit/{bundle_id}/verify", reverify, methods=["POST"]),
        Route("/regulator/audit/{bundle_id}/bundle.zip", bundle_zip),
        Route("/regulator/audit/{bundle_id}/files/{name}", bundle_file),
    ]
