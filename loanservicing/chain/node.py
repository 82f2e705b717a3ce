"""Connect to an EVM node, or run a local Anvil, plus dev-chain helpers (time travel, snapshots).

An ``AnvilNode`` never outlives the Python process that started it: it is stopped by its
context manager, by ``atexit``, by a SIGTERM handler, and, if Python dies without cleanup,
by the kernel through ``PR_SET_PDEATHSIG`` (Linux).
"""

from __future__ import annotations

import atexit
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, Any, Self
from urllib.parse import urlsplit

from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from loanservicing.chain.errors import RpcError
from loanservicing.chain.rpc import RpcClient, probe_chain_id
from loanservicing.errors import LoanServicingError, NodeUnreachable
from loanservicing.paths import NODE_BIN

__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_CHAIN_ID",
    "AnvilNode",
    "chain_time",
    "connect",
    "find_anvil",
    "increase_time",
    "is_dev_chain",
    "mine",
    "revert",
    "set_next_timestamp",
    "snapshot",
]

DEFAULT_CHAIN_ID = 31337
DEFAULT_ACCOUNTS = 10
STARTUP_TIMEOUT_S = 20.0
RPC_TIMEOUT_S = 30
STOP_TIMEOUT_S = 5.0
_LOOPBACK = "127.0.0.1"
_PORT_ATTEMPTS = 3

logger = logging.getLogger(__name__)


def find_anvil() -> Path:
    """Return the pinned Anvil from node_modules, else ``anvil`` on PATH."""
    pinned = NODE_BIN / "anvil"
    if pinned.is_file() and os.access(pinned, os.X_OK):
        return pinned
    on_path = shutil.which("anvil")
    if on_path is not None:
        return Path(on_path)
    raise LoanServicingError(
        f"Anvil was not found at {pinned} nor on PATH; run `make setup` to install it with npm."
    )


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((_LOOPBACK, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGKILL us when the parent dies."""
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


class _Registry:
    """Running nodes, stopped at interpreter exit or on SIGTERM."""

    def __init__(self) -> None:
        self._nodes: set[AnvilNode] = set()
        self._lock = threading.Lock()
        self._hooks_installed = False
        self._previous_sigterm: Any = signal.SIG_DFL

    def add(self, node: AnvilNode) -> None:
        with self._lock:
            self._nodes.add(node)
            if not self._hooks_installed:
                self._install_hooks()

    def discard(self, node: AnvilNode) -> None:
        with self._lock:
            self._nodes.discard(node)

    def stop_all(self) -> None:
        with self._lock:
            nodes = list(self._nodes)
        for node in nodes:
            node.stop()

    def _install_hooks(self) -> None:
        self._hooks_installed = True
        atexit.register(self.stop_all)
        if threading.current_thread() is not threading.main_thread():
            return  # signal handlers can only be set from the main thread
        previous = signal.getsignal(signal.SIGTERM)
        if previous in (signal.SIG_IGN, None):
            return
        self._previous_sigterm = previous
        signal.signal(signal.SIGTERM, self._on_sigterm)
        # SIGINT already unwinds through KeyboardInterrupt, so context managers and atexit
        # run; Ctrl-C also reaches Anvil directly, as it stays in our process group.

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        self.stop_all()
        previous = self._previous_sigterm
        if callable(previous):
            previous(signum, frame)
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)


_registry = _Registry()


class AnvilNode:
    """A local Anvil on a free loopback port; use as a context manager or call start/stop."""

    def __init__(
        self,
        *,
        chain_id: int = DEFAULT_CHAIN_ID,
        accounts: int = DEFAULT_ACCOUNTS,
        block_time: int | None = None,
        anvil_path: Path | None = None,
        startup_timeout: float = STARTUP_TIMEOUT_S,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.extra_args = tuple(extra_args)
        self.chain_id = chain_id
        self.accounts = accounts
        self.block_time = block_time
        self.anvil_path = anvil_path
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        if self.port is None:
            raise LoanServicingError("This Anvil node has not been started, so it has no URL.")
        return f"http://{_LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _command(self, anvil: Path, port: int) -> list[str]:
        command = [
            str(anvil),
            "--host",
            _LOOPBACK,
            "--port",
            str(port),
            "--silent",
            "--chain-id",
            str(self.chain_id),
            "--accounts",
            str(self.accounts),
        ]
        if self.block_time is not None:
            command += ["--block-time", str(self.block_time)]
        return command + list(self.extra_args)

    def start(self) -> Self:
        """Start Anvil and wait until it answers eth_chainId; idempotent while running."""
        if self.is_running:
            return self
        anvil = self.anvil_path or find_anvil()
        last_error: NodeUnreachable | None = None
        for _ in range(_PORT_ATTEMPTS):
            port = _free_loopback_port()
            if not _port_is_free(port):
                continue
            try:
                self._spawn(anvil, port)
                return self
            except NodeUnreachable as exc:  # e.g. another process took the port meanwhile
                last_error = exc
        raise last_error or NodeUnreachable("No free loopback port was found for Anvil.")

    def _spawn(self, anvil: Path, port: int) -> None:
        self.port = port
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        preexec = _die_with_parent if sys.platform.startswith("linux") else None
        self._process = subprocess.Popen(
            self._command(anvil, port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=False,
            preexec_fn=preexec,
        )
        _registry.add(self)
        logger.debug("Started Anvil pid %d on %s", self._process.pid, self.rpc_url)
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if self._process.poll() is not None:
                raise NodeUnreachable(
                    f"Anvil exited with code {self._process.returncode} before answering on "
                    f"{self.rpc_url}; its stderr was: {self._stderr_text() or '(empty)'}"
                )
            try:
                chain_id = probe_chain_id(self.rpc_url, timeout=1.0)
            except (NodeUnreachable, RpcError):
                if time.monotonic() > deadline:
                    raise NodeUnreachable(
                        f"Anvil did not answer eth_chainId on {self.rpc_url} within "
                        f"{self.startup_timeout:g} s; its stderr was: "
                        f"{self._stderr_text() or '(empty)'}"
                    ) from None
                time.sleep(0.05)
                continue
            if chain_id != self.chain_id:
                raise NodeUnreachable(
                    f"The node on {self.rpc_url} reports chain id {chain_id}, "
                    f"not {self.chain_id}; another process may hold that port."
                )
            return

    def _stderr_text(self) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace").strip()

    def stop(self) -> None:
        """Terminate Anvil, kill it if it lingers, and reap it; safe to call twice."""
        process, self._process = self._process, None
        _registry.discard(self)
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            logger.debug("Stopped Anvil pid %d", process.pid)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _web3(rpc_url: str) -> Web3:
    return Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": RPC_TIMEOUT_S}))


def connect(rpc_url: str | None = None) -> tuple[Web3, AnvilNode | None]:
    """Connect to ``rpc_url``, or start a local Anvil when it is None.

    Returns the Web3 connection and the node that was started (the caller stops it), or
    None for an external node. Raises NodeUnreachable when nothing answers.
    """
    if rpc_url is None:
        node = AnvilNode().start()
        return _web3(node.rpc_url), node
    parts = urlsplit(rpc_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise LoanServicingError(
            f"The RPC URL {rpc_url!r} is not an http:// or https:// address of a JSON-RPC "
            "node (such as http://127.0.0.1:8545)."
        )
    try:
        chain_id = probe_chain_id(rpc_url, timeout=RPC_TIMEOUT_S)
    except (NodeUnreachable, RpcError) as exc:
        reason = exc.__cause__ or exc  # the transport's own words
        raise NodeUnreachable(
            f"No Ethereum JSON-RPC node answered eth_chainId at {rpc_url} ({reason})."
        ) from exc
    logger.debug("Connected to %s (chain id %d)", rpc_url, chain_id)
    return _web3(rpc_url), None


def _request(w3: Web3, method: str, params: list[Any]) -> Any:
    return w3.manager.request_blocking(RPCEndpoint(method), params)


def mine(w3: Web3, timestamp: int | None = None) -> None:
    """Mine one block, optionally with the given timestamp."""
    _request(w3, "evm_mine", [] if timestamp is None else [timestamp])


def increase_time(w3: Web3, seconds: int) -> None:
    """Move the chain clock forward by ``seconds`` and mine a block at the new time."""
    _request(w3, "evm_increaseTime", [seconds])
    mine(w3)


def set_next_timestamp(w3: Web3, timestamp: int) -> None:
    """Fix the timestamp of the next mined block."""
    _request(w3, "evm_setNextBlockTimestamp", [timestamp])


def snapshot(w3: Web3) -> str:
    """Take an EVM snapshot and return its id."""
    return str(_request(w3, "evm_snapshot", []))


def revert(w3: Web3, snapshot_id: str) -> None:
    """Return the chain to a snapshot (which is consumed)."""
    if not _request(w3, "evm_revert", [snapshot_id]):
        raise LoanServicingError(f"The node refused to revert to snapshot {snapshot_id}.")


def chain_time(w3: Web3) -> int:
    """Timestamp of the latest block, in seconds."""
    return int(w3.eth.get_block("latest")["timestamp"])


def is_dev_chain(w3: Web3) -> bool:
    """True for Anvil, Hardhat or Ganache, whose dev RPC methods (time travel, snapshots) work;
    False also when the node does not answer."""
    client = RpcClient.for_web3(w3, timeout=RPC_TIMEOUT_S)
    try:
        return client.is_dev_chain
    except NodeUnreachable:
        return False
    finally:
        client.close()
