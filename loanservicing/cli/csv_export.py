"""``--csv FILE``: a command's rows as a CSV file beside its table or JSON, one header line
then one line per row; amounts as exact decimal strings in the token's unit (``887.72``),
never floats."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from loanservicing.amounts import InvalidInput

__all__ = ["csv_option", "write_csv"]

F = TypeVar("F", bound=Callable[..., Any])


def csv_option(f: F) -> F:
    return click.option(
        "--csv",
        "csv_path",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Also write the rows to this CSV file.",
    )(f)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` (each a mapping over ``columns``) to ``path``; None is an empty cell."""
    try:
        with path.open("w", newline="", encoding="utf8") as out:
            writer = csv.writer(out)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    except OSError as exc:
        raise InvalidInput(f"The CSV file {path} cannot be written ({exc.strerror}).") from None
