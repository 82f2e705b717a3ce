"""The audit bundles regulators ask for in the portal: each is exported for a block range
(:func:`loanservicing.sharing.audit.export_bundle`, as ``report audit`` does) into a folder of
its own named by a random id, verified against the chain at once
(:func:`~loanservicing.sharing.audit.verify_bundle`, as ``report audit-verify`` does), and
then served file by file or as a zip.

A download names a bundle by its id and a file by its name, both checked against what exists
(the id's form, the names the manifest lists): no path from a request ever reaches the file
system.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from web3 import Web3

from loanservicing.portal.errors import BundleNotFound
from loanservicing.sharing.audit import (
    AuditSources,
    bundle_files,
    export_bundle,
    verify_bundle,
    zip_bundle,
)

__all__ = ["AuditDesk", "BundleResult"]

_ID = re.compile(r"[0-9a-f]{32}")
_BUNDLE, _RESULT = "bundle", "verification.json"


@dataclass(frozen=True)
class BundleResult:
    """A bundle's manifest and what verifying it against the chain found."""

    bundle_id: str
    requested_by: str
    manifest: dict[str, Any]
    ok: bool
    files_checked: int
    rows_checked: int
    mismatches: list[str]
    files: list[str]


class AuditDesk:
    def __init__(self, w3: Web3, sources: AuditSources, directory: Path) -> None:
        self.w3 = w3
        self.sources = sources
        self.directory = Path(directory)

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def export(self, from_block: int, to_block: int, requested_by: str) -> str:
        """Export and verify the bundle of blocks ``from_block..to_block``; its id. Raises
        :class:`~loanservicing.sharing.errors.AuditMismatch` for a range off the chain."""
        bundle_id = secrets.token_hex(16)
        home = self.directory / bundle_id
        home.mkdir(parents=True, mode=0o700)
        export_bundle(self.w3, self.sources, home / _BUNDLE, from_block, to_block)
        self.verify(bundle_id, requested_by)
        return bundle_id

    def verify(self, bundle_id: str, requested_by: str) -> BundleResult:
        """Verify the bundle against the chain (again) and keep the outcome; the bundle stays
        the one ``requested_by`` asked for first."""
        home = self._home(bundle_id)
        report = verify_bundle(self.w3, home / _BUNDLE, self.sources)
        try:
            first = json.loads((home / _RESULT).read_text(encoding="utf8"))["requested_by"]
        except (OSError, ValueError, KeyError, TypeError):
            first = requested_by
        outcome = {
            "requested_by": str(first),
            "ok": report.ok,
            "files_checked": report.files_checked,
            "rows_checked": report.rows_checked,
            "mismatches": report.mismatches,
        }
        (home / _RESULT).write_text(json.dumps(outcome, indent=2) + "\n", encoding="utf8")
        return self.result(bundle_id)

    def result(self, bundle_id: str) -> BundleResult:
        home = self._home(bundle_id)
        try:
            outcome = json.loads((home / _RESULT).read_text(encoding="utf8"))
            manifest = json.loads((home / _BUNDLE / "manifest.json").read_text(encoding="utf8"))
        except (OSError, ValueError) as exc:
            raise BundleNotFound(f"The audit bundle {bundle_id} cannot be read ({exc}).") from None
        return BundleResult(
            bundle_id,
            str(outcome["requested_by"]),
            manifest,
            bool(outcome["ok"]),
            int(outcome["files_checked"]),
            int(outcome["rows_checked"]),
            [str(m) for m in outcome["mismatches"]],
            bundle_files(home / _BUNDLE),
        )

    def file(self, bundle_id: str, name: str) -> Path:
        """The path of file ``name`` of the bundle: only a name its manifest lists."""
        folder = self._home(bundle_id) / _BUNDLE
        if name not in bundle_files(folder):
            raise BundleNotFound(f"The audit bundle has no file {name!r}.")
        path = (folder / name).resolve()
        if path.parent != folder.resolve() or not path.is_file():
            raise BundleNotFound(f"The audit bundle has no file {name!r}.")
        return path

    def zip(self, bundle_id: str) -> bytes:
        return zip_bundle(self._home(bundle_id) / _BUNDLE)

    def _home(self, bundle_id: str) -> Path:
        if not _ID.fullmatch(bundle_id):
            raise BundleNotFound(f"There is no audit bundle {bundle_id!r}.")
        home = self.directory / bundle_id
        if not (home / _BUNDLE).is_dir():
            raise BundleNotFound(f"There is no audit bundle {bundle_id!r}.")
        return home
