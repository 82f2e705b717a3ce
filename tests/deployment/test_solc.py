"""The pinned compiler lives inside the checkout and belongs to it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from loanservicing.deployment.solc import (
    FACADE_SCRIPT,
    SOLC_VERSION,
    SOLCX_DIR,
    install_solc_facade,
    solc_binary,
)
from loanservicing.paths import NODE_MODULES, REPO_ROOT


def test_the_compiler_is_installed_inside_this_checkout_and_runs_its_facade() -> None:
    path = install_solc_facade()
    assert path == SOLCX_DIR / f"solc-v{SOLC_VERSION}" == solc_binary()
    assert path.is_relative_to(REPO_ROOT)
    # The wrapper runs this checkout's facade, which loads solc-js from this checkout.
    assert f'"{FACADE_SCRIPT}"' in path.read_text()
    assert FACADE_SCRIPT.is_relative_to(REPO_ROOT)
    assert FACADE_SCRIPT.parent.parent.parent == REPO_ROOT  # the facade's "../.." is the root
    assert (NODE_MODULES / "solc" / "package.json").is_file()
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True)
    assert f"Version: {SOLC_VERSION}" in out.stdout


def test_set_up_writes_nothing_to_the_home_folder(tmp_path: Path) -> None:
    """`python -m loanservicing.deployment.solc` (what `make setup` runs) and a compilation
    leave ~/.solcx alone, even with no SOLCX_BINARY_PATH; so another clone that is moved or
    deleted cannot break this one, and this one cannot break another."""
    env = {k: v for k, v in os.environ.items() if k != "SOLCX_BINARY_PATH"}
    env["HOME"] = str(tmp_path)
    script = (
        "import sys\n"
        "from loanservicing.deployment.solc import main\n"
        "from loanservicing.deployment.compile import compile_contracts\n"
        "main()\n"
        "assert 'LoanLedger' in compile_contracts()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(SOLCX_DIR / f"solc-v{SOLC_VERSION}")
    assert list(tmp_path.iterdir()) == [], "nothing may be written to the home folder"


def test_a_deleted_other_clone_does_not_break_this_one(tmp_path: Path) -> None:
    """A second clone (this checkout's package copied elsewhere, sharing node_modules)
    installs its own facade under its own .venv/solcx; deleting it leaves this checkout's
    compiler untouched and working."""
    clone = tmp_path / "clone"
    shutil.copytree(
        REPO_ROOT / "loanservicing",
        clone / "loanservicing",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (clone / "node_modules").symlink_to(NODE_MODULES)
    env = {k: v for k, v in os.environ.items() if k != "SOLCX_BINARY_PATH"}
    env["HOME"] = str(tmp_path / "home")
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(clone)!r})\n"
        "from loanservicing.deployment import solc\n"
        f"assert solc.__file__.startswith({str(clone)!r}), solc.__file__\n"
        "print(solc.install_solc_facade())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    theirs = Path(out.stdout.strip())
    assert theirs == clone / ".venv" / "solcx" / f"solc-v{SOLC_VERSION}"
    assert str(clone / "loanservicing" / "deployment" / "solcjs_facade.js") in theirs.read_text()
    ours = install_solc_facade()
    before = ours.read_text()
    assert str(clone) not in before
    shutil.rmtree(clone)
    assert install_solc_facade() == ours and ours.read_text() == before
    out = subprocess.run([ours, "--version"], capture_output=True, text=True, check=True)
    assert f"Version: {SOLC_VERSION}" in out.stdout
