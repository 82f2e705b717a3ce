"""The pinned Solidity compiler: a native solc if one is installed, else a solc-js facade.

The machine cannot download native solc builds, so ``install_solc_facade`` puts a small
shell wrapper named ``solc-v<version>`` into ``SOLCX_DIR`` inside the checkout
(``.venv/solcx``); the wrapper runs this checkout's ``solcjs_facade.js``, which speaks solc's
``--version`` and ``--standard-json`` interfaces through solc-js from this checkout's
node_modules. Nothing is written outside the checkout, so clones on one machine never share
(or break) each other's compiler.

The package's own compile path passes the binary to py-solc-x, so it needs no environment.
py-solc-x's other users (ape-solidity) find it when ``SOLCX_BINARY_PATH`` names ``SOLCX_DIR``,
which the Makefile exports for ``ape``.

Run ``python -m loanservicing.deployment.solc`` to install the facade and print the compiler's path.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

from packaging.version import Version
from solcx.exceptions import SolcError
from solcx.wrapper import get_solc_version

from loanservicing.errors import CompilationError
from loanservicing.paths import REPO_ROOT

__all__ = ["FACADE_SCRIPT", "SOLCX_DIR", "SOLC_VERSION", "install_solc_facade", "solc_binary"]

SOLC_VERSION = "0.8.28"
"""The one compiler pin; ape-config.yaml and package.json repeat it."""

FACADE_SCRIPT = Path(__file__).resolve().with_name("solcjs_facade.js")
SOLCX_DIR = REPO_ROOT / ".venv" / "solcx"
"""The checkout's py-solc-x folder (what ``SOLCX_BINARY_PATH`` names for ape-solidity)."""
_FACADE_MARKER = "# loanservicing solc-js facade"

logger = logging.getLogger(__name__)


def _install_path() -> Path:
    """Where the pinned version lives: ``.venv/solcx/solc-v0.8.28`` in this checkout."""
    return SOLCX_DIR / f"solc-v{SOLC_VERSION}"


def _is_facade(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(256)
    except OSError:
        return False
    return _FACADE_MARKER.encode() in head


def _is_native_pinned_solc(path: Path) -> bool:
    """True when ``path`` runs a solc of the pinned version that is not our facade."""
    if not path.is_file() or _is_facade(path):
        return False
    try:
        return get_solc_version(path) == Version(SOLC_VERSION)
    except (OSError, SolcError, ValueError) as exc:
        logger.debug("Ignoring %s, which is not a working solc: %s", path, exc)
        return False


def _native_solc_on_path() -> Path | None:
    found = shutil.which("solc")
    if found is None:
        return None
    path = Path(found).resolve()
    return path if _is_native_pinned_solc(path) else None


def _facade_wrapper_text() -> str:
    node = shutil.which("node")
    if node is None:
        raise CompilationError(
            "Node.js is not on PATH, so the solc-js compiler facade cannot run; install Node 20."
        )
    if not FACADE_SCRIPT.is_file():
        raise CompilationError(f"The solc-js facade script {FACADE_SCRIPT} is missing.")
    return f'#!/bin/sh\n{_FACADE_MARKER}\nexec "{node}" "{FACADE_SCRIPT}" "$@"\n'


def _write_executable_atomically(target: Path, text: str) -> None:
    """Replace ``target`` in one rename, so concurrent test workers never see half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf8") as handle:
            handle.write(text)
        os.chmod(tmp_name, 0o755)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def install_solc_facade() -> Path:
    """Make solc ``SOLC_VERSION`` available to py-solc-x and return the path it uses.

    A native solc of the pinned version already in ``SOLCX_DIR`` is kept; one on PATH is
    linked there. Otherwise the solc-js facade wrapper is written (or rewritten when
    it points at another checkout). Calling it again changes nothing.
    """
    target = _install_path()
    if _is_native_pinned_solc(target):
        logger.debug("Native solc %s already installed at %s", SOLC_VERSION, target)
        return target

    native = _native_solc_on_path()
    if native is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        target.symlink_to(native)
        logger.info("Linked native solc %s from %s to %s", SOLC_VERSION, native, target)
        return target

    text = _facade_wrapper_text()
    try:
        current = target.read_text(encoding="utf8")
    except (OSError, UnicodeDecodeError):
        current = None
    if current != text:
        _write_executable_atomically(target, text)
        logger.info("Installed the solc-js facade for solc %s at %s", SOLC_VERSION, target)
    return target


def solc_binary() -> Path:
    """The checkout's solc ``SOLC_VERSION`` (installed first if missing or stale)."""
    return install_solc_facade()


def main() -> None:
    """Install the compiler (facade) and write its path to stdout."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    sys.stdout.write(f"{install_solc_facade()}\n")


if __name__ == "__main__":
    main()
