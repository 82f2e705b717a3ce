"""A table as a page shows it and as its CSV download carries it: the same header and the same
cells, so the download equals what is on screen (money at two decimals, the symbol in the
header)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Table"]


@dataclass(frozen=True)
class Table:
    """``name`` is the download's file name (``name.csv``); ``numeric`` the columns aligned
    right; ``links`` an optional href per row (the first cell links to it)."""

    name: str
    title: str
    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    numeric: frozenset[int] = frozenset()
    links: Sequence[str | None] = field(default_factory=tuple)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return out.getvalue()

    def link(self, index: int) -> str | None:
        return self.links[index] if index < len(self.links) else None
