"""What every group of portal routes shares: the index (one connection per request), pages
rendered from the templates with the signed-in account and CSRF token, and a table as its CSV
download."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from loanservicing.indexing.database import IndexDB
from loanservicing.portal.access import signed_in
from loanservicing.portal.csrf import csrf_token
from loanservicing.portal.settings import PortalSettings
from loanservicing.portal.tables import Table

__all__ = ["Pages", "named"]


class Pages:
    def __init__(self, settings: PortalSettings, templates: Jinja2Templates) -> None:
        self.settings = settings
        self.templates = templates
        self.symbol = settings.token_symbol

    @contextmanager
    def index(self) -> Iterator[IndexDB]:
        db = IndexDB(self.settings.db_path)
        try:
            yield db
        finally:
            db.close()

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        who = signed_in(request)
        return self.templates.TemplateResponse(
            request,
            name,
            {"who": who, "csrf": csrf_token(request), "symbol": self.symbol, **context},
            status_code=status,
        )

    def csv(self, table: Table, prefix: str) -> Response:
        return Response(
            table.csv(),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{prefix}{table.name}.csv"'},
        )


def named(tables: dict[str, Table], name: str) -> Table:
    """The table called ``name``; 404 for any other name (no file is ever read)."""
    table = tables.get(name)
    if table is None:
        raise HTTPException(404, f"There is no table {name!r} to download here.")
    return table
