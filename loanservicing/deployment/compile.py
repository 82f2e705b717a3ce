"""Compile the project's Solidity sources through solc's standard-JSON interface, with a cache.

Artifacts go to ``build/artifacts/<ContractName>.json``; ``build/artifacts/.hash`` records a
sha256 over the artifact format, the compiler version, the settings, the OpenZeppelin version in
package.json and every source under ``contracts/``. While that hash matches, no compiler is run.

A contract that calls an external library (the ledger's rarely used paths) has placeholders
``__$<34 hex digits>$__`` in its bytecode where the library's address goes; its artifact lists
them in ``link_references`` and ``ContractArtifact.linked_bytecode`` writes the addresses in.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

import solcx
from solcx.exceptions import SolcError

from loanservicing.deployment.solc import SOLC_VERSION, solc_binary
from loanservicing.errors import CompilationError
from loanservicing.paths import REPO_ROOT

__all__ = [
    "EVM_VERSION",
    "OPTIMIZER_RUNS",
    "ContractArtifact",
    "LinkReference",
    "compile_contracts",
    "load_artifact",
]

OPTIMIZER_RUNS = 1_000
EVM_VERSION = "cancun"
OPENZEPPELIN_REMAPPING = "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"
CONTRACTS_DIR = "contracts"
ARTIFACTS_DIR = Path("build") / "artifacts"
HASH_FILE = ".hash"
LOCK_FILE = Path("build") / ".compile.lock"
ARTIFACT_FORMAT = 2
"""Version of the artifact files, part of the cache key (2: with link references)."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinkReference:
    """Where the address of one external library goes in a contract's creation bytecode."""

    source_path: str
    """Source unit of the library, e.g. ``contracts/libraries/LoanRestructuring.sol``."""
    library: str
    """The library's contract name (artifact names are unique)."""
    offsets: tuple[int, ...]
    """Byte offsets of the 20-byte placeholders, from the start of the bytecode."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LinkReference:
        return cls(
            source_path=data["source_path"],
            library=data["library"],
            offsets=tuple(int(offset) for offset in data["offsets"]),
        )


@dataclass(frozen=True)
class ContractArtifact:
    """ABI and bytecode of one compiled contract."""

    name: str
    source_path: str
    """Source unit name, relative to the project root, e.g. ``contracts/LoanBook.sol``."""
    abi: list[dict[str, Any]]
    bytecode: str
    """Creation bytecode, ``0x``-prefixed hex (``0x`` alone for interfaces); unlinked, with a
    placeholder for each library in ``link_references``."""
    deployed_bytecode: str
    """Runtime bytecode, ``0x``-prefixed hex (unlinked, like ``bytecode``)."""
    link_references: tuple[LinkReference, ...] = ()
    """The external libraries the creation bytecode calls, from solc's
    ``evm.bytecode.linkReferences``."""
    deployed_link_references: tuple[LinkReference, ...] = ()
    """The same libraries' places in the runtime bytecode (``evm.deployedBytecode``)."""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ContractArtifact:
        return cls(
            name=data["name"],
            source_path=data["source_path"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployed_bytecode"],
            link_references=tuple(
                LinkReference.from_json(ref) for ref in data.get("link_references", [])
            ),
            deployed_link_references=tuple(
                LinkReference.from_json(ref) for ref in data.get("deployed_link_references", [])
            ),
        )

    @property
    def libraries(self) -> tuple[str, ...]:
        """Names of the external libraries to deploy and link before this contract."""
        return tuple(ref.library for ref in self.link_references)

    @property
    def runtime_size(self) -> int:
        """Size in bytes of the deployed (runtime) code, the size EIP-170 limits; a library
        placeholder counts as the 20-byte address that replaces it."""
        return (len(self.deployed_bytecode) - 2) // 2

    def linked_bytecode(self, libraries: Mapping[str, str]) -> str:
        """The creation bytecode with each library's address (by library name) written over
        its placeholders. Raises CompilationError when a library's address is missing."""
        code = self.bytecode[2:]
        for ref in self.link_references:
            address = libraries.get(ref.library)
            if address is None:
                raise CompilationError(
                    f"{self.name} calls the library {ref.library}; deploy it first and pass "
                    f"its address."
                )
            hex_address = address.lower().removeprefix("0x")
            if len(hex_address) != 40:
                raise CompilationError(
                    f"The address {address} given for the library {ref.library} is not 20 bytes."
                )
            for offset in ref.offsets:
                start = 2 * offset
                code = code[:start] + hex_address + code[start + 40 :]
        return "0x" + code


def _link_references(raw: dict[str, dict[str, list[dict[str, int]]]]) -> tuple[LinkReference, ...]:
    """solc's ``linkReferences`` (source -> library -> [{start, length}]) as LinkReferences."""
    return tuple(
        LinkReference(
            source_path=source,
            library=library,
            offsets=tuple(sorted(int(place["start"]) for place in places)),
        )
        for source, libraries in sorted(raw.items())
        for library, places in sorted(libraries.items())
    )


def compiler_settings() -> dict[str, Any]:
    """The standard-JSON ``settings`` used for every compilation."""
    return {
        "optimizer": {"enabled": True, "runs": OPTIMIZER_RUNS},
        "evmVersion": EVM_VERSION,
        "viaIR": False,
        "remappings": [OPENZEPPELIN_REMAPPING],
        "outputSelection": {
            "*": {
                "*": [
                    "abi",
                    "evm.bytecode.object",
                    "evm.bytecode.linkReferences",
                    "evm.deployedBytecode.object",
                    "evm.deployedBytecode.linkReferences",
                ]
            }
        },
    }


def _source_files(root: Path) -> list[Path]:
    contracts = root / CONTRACTS_DIR
    if not contracts.is_dir():
        return []
    return sorted(p for p in contracts.rglob("*.sol") if p.is_file())


def _source_unit_name(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _openzeppelin_version(root: Path) -> str:
    package_json = root / "package.json"
    if not package_json.is_file():
        package_json = REPO_ROOT / "package.json"
    try:
        manifest = json.loads(package_json.read_text(encoding="utf8"))
    except (OSError, ValueError):
        return ""
    version = manifest.get("dependencies", {}).get("@openzeppelin/contracts", "")
    return str(version)


def _sources_hash(root: Path, sources: dict[str, str]) -> str:
    digest = hashlib.sha256()
    header = {
        "artifact_format": ARTIFACT_FORMAT,
        "solc": SOLC_VERSION,
        "settings": compiler_settings(),
        "openzeppelin": _openzeppelin_version(root),
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for name in sorted(sources):
        digest.update(b"\0" + name.encode() + b"\0" + sources[name].encode())
    return digest.hexdigest()


@contextmanager
def _compile_lock(root: Path) -> Iterator[None]:
    """Serialise compilations of one project across processes (pytest-xdist workers)."""
    lock_path = root / LOCK_FILE
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_cache(artifacts_dir: Path, expected_hash: str) -> dict[str, ContractArtifact] | None:
    hash_path = artifacts_dir / HASH_FILE
    try:
        if hash_path.read_text(encoding="utf8").strip() != expected_hash:
            return None
        return {
            artifact.name: artifact
            for artifact in (
                ContractArtifact.from_json(json.loads(p.read_text(encoding="utf8")))
                for p in sorted(artifacts_dir.glob("*.json"))
            )
        }
    except (OSError, ValueError, KeyError):
        return None


def _write_cache(
    artifacts_dir: Path, artifacts: dict[str, ContractArtifact], sources_hash: str
) -> None:
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    (artifacts_dir / HASH_FILE).unlink(missing_ok=True)
    for stale in artifacts_dir.glob("*.json"):
        stale.unlink()
    for artifact in artifacts.values():
        path = artifacts_dir / f"{artifact.name}.json"
        path.write_text(json.dumps(asdict(artifact), indent=2) + "\n", encoding="utf8")
    # Written last: a crash before this line leaves no valid cache behind.
    (artifacts_dir / HASH_FILE).write_text(sources_hash + "\n", encoding="utf8")


_TRANSIENT_STORAGE = "2394"
"""solc's warning that transient storage can break composability. OpenZeppelin's
``TransientSlot`` raises it; the ledger uses transient storage only for
``ReentrancyGuardTransient``, whose flag is cleared at the end of the call that set it (the
use the warning itself calls safe), so it is not shown."""


def _log_diagnostics(errors: list[dict[str, Any]]) -> None:
    for diagnostic in errors:
        if diagnostic.get("severity") == "error":
            continue
        source = str(diagnostic.get("sourceLocation", {}).get("file", ""))
        if diagnostic.get("errorCode") == _TRANSIENT_STORAGE and "@openzeppelin/" in source:
            logger.debug("solc: %s (expected: a reentrancy guard)", diagnostic.get("message"))
            continue
        logger.warning("solc: %s", diagnostic.get("formattedMessage", diagnostic))


def _run_compiler(root: Path, sources: dict[str, str]) -> dict[str, Any]:
    input_json = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sources.items()},
        "settings": compiler_settings(),
    }
    allow_paths = [root.resolve()]
    node_modules = root / "node_modules"
    if node_modules.exists():
        allow_paths.append(node_modules.resolve())
    logger.info("Compiling %d Solidity sources with solc %s", len(sources), SOLC_VERSION)
    try:
        output: dict[str, Any] = solcx.compile_standard(
            input_json,
            base_path=root.resolve(),
            allow_paths=allow_paths,
            solc_binary=solc_binary(),
        )
    except SolcError as exc:
        errors = cast(list[dict[str, Any]], exc.error_dict or [])
        _log_diagnostics(errors)
        messages = [
            e.get("formattedMessage", str(e)) for e in errors if e.get("severity") == "error"
        ]
        detail = "\n".join(messages) if messages else str(exc)
        raise CompilationError(f"Solidity compilation failed:\n{detail}") from None
    _log_diagnostics(output.get("errors", []))
    return output


def _artifacts_from_output(
    output: dict[str, Any], own_sources: set[str]
) -> dict[str, ContractArtifact]:
    artifacts: dict[str, ContractArtifact] = {}
    for source_name, contracts in sorted(output.get("contracts", {}).items()):
        if source_name not in own_sources:
            continue  # OpenZeppelin and other imported libraries
        for name, data in sorted(contracts.items()):
            if name in artifacts:
                raise CompilationError(
                    f"Contract name {name} is defined in both {artifacts[name].source_path} "
                    f"and {source_name}; artifact names must be unique."
                )
            evm = data.get("evm", {})
            bytecode = evm.get("bytecode", {})
            deployed = evm.get("deployedBytecode", {})
            artifacts[name] = ContractArtifact(
                name=name,
                source_path=source_name,
                abi=data.get("abi", []),
                bytecode="0x" + bytecode.get("object", ""),
                deployed_bytecode="0x" + deployed.get("object", ""),
                link_references=_link_references(bytecode.get("linkReferences", {})),
                deployed_link_references=_link_references(deployed.get("linkReferences", {})),
            )
    return artifacts


def compile_contracts(root: Path | None = None) -> dict[str, ContractArtifact]:
    """Compile every ``contracts/**/*.sol`` under ``root`` (default: this repo), by name.

    Returns the cached artifacts without running the compiler when nothing changed.
    Raises CompilationError when solc reports an error; warnings are only logged.
    """
    root = (root or REPO_ROOT).resolve()
    files = _source_files(root)
    if not files:
        logger.info("No Solidity sources under %s", root / CONTRACTS_DIR)
        return {}
    artifacts_dir = root / ARTIFACTS_DIR
    with _compile_lock(root):
        sources = {_source_unit_name(root, p): p.read_text(encoding="utf8") for p in files}
        sources_hash = _sources_hash(root, sources)
        cached = _read_cache(artifacts_dir, sources_hash)
        if cached is not None:
            logger.debug("Artifacts in %s are up to date", artifacts_dir)
            return cached
        output = _run_compiler(root, sources)
        artifacts = _artifacts_from_output(output, set(sources))
        _write_cache(artifacts_dir, artifacts, sources_hash)
        return artifacts


def load_artifact(name: str, root: Path | None = None) -> ContractArtifact:
    """Return the artifact of contract ``name``, compiling first if the cache is stale."""
    artifacts = compile_contracts(root)
    try:
        return artifacts[name]
    except KeyError:
        known = ", ".join(sorted(artifacts)) or "none"
        raise CompilationError(
            f"No compiled contract is named {name}; the contracts are: {known}."
        ) from None
