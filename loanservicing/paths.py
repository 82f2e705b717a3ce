"""Where the checkout keeps what set-up installed: one definition for every module."""

from __future__ import annotations

from pathlib import Path

__all__ = ["NODE_BIN", "NODE_MODULES", "REPO_ROOT"]

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout (the package is installed editable from it)."""

NODE_MODULES = REPO_ROOT / "node_modules"
"""npm's pinned toolchain: Anvil, solc-js, OpenZeppelin."""

NODE_BIN = NODE_MODULES / ".bin"
