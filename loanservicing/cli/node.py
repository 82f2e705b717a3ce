"""``node``, ``deploy``, ``chain time|advance`` and ``faucet``: the node, the deployment and
the dev chain's clock and tokens."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from types import FrameType
from typing import Any

import click
from eth_typing import ChecksumAddress
from rich.console import Console
from web3 import Web3

from loanservicing.amounts import InvalidInput, iso_date, parse_amount
from loanservicing.chain.accounts import TransactionSender
from loanservicing.chain.errors import RpcError
from loanservicing.chain.node import find_anvil, increase_time
from loanservicing.chain.rpc import probe_chain_id
from loanservicing.cli.app import CliState, state_of
from loanservicing.cli.options import ADDRESS, DURATION, account_option, json_option
from loanservicing.cli.output import emit, key_value_table, note, stderr_console
from loanservicing.deployment.bindings import revert_decoder
from loanservicing.deployment.deploy import deploy_system
from loanservicing.deployment.manifest import (
    Deployment,
    read_deployment,
    verify_deployment,
    write_deployment,
)
from loanservicing.errors import LoanServicingError, NodeUnreachable
from loanservicing.servicing.devchain import faucet as faucet_tokens
from loanservicing.servicing.errors import DevChainOnly

__all__ = ["chain", "deploy", "faucet", "node"]


# --------------------------------------------------------------------------- node


@click.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8545, show_default=True)
@click.option("--chain-id", type=click.IntRange(min=1), default=31337, show_default=True)
@json_option
@click.pass_context
def node(ctx: click.Context, port: int, chain_id: int) -> None:
    """Run Anvil in the foreground on 127.0.0.1:PORT until Ctrl-C."""
    state = state_of(ctx)
    command = [str(find_anvil()), "--host", "127.0.0.1", "--port", str(port)]
    command += ["--chain-id", str(chain_id)]
    if state.json:
        command.append("--silent")
    url = f"http://127.0.0.1:{port}"
    _require_free(port)
    # SIGTERM (a service manager, `kill`) stops Anvil as Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    # Ctrl-C or SIGTERM at any time, even while Anvil starts, stops it and exits cleanly.
    stopping = threading.Event()
    with _foreground(command) as process, suppress(KeyboardInterrupt):

        def stop(signum: int, frame: FrameType | None) -> None:
            # Anvil is stopped here as well: a KeyboardInterrupt that lands in a finalizer
            # while Anvil starts is swallowed, and the wait for Anvil must end all the same.
            stopping.set()
            if process.poll() is None:
                process.terminate()
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)
        _await_answer(process, url, port, stopping)
        if stopping.is_set():
            return
        if state.json:
            click.echo(json.dumps({"rpc_url": url, "chain_id": chain_id, "pid": process.pid}))
            sys.stdout.flush()
        else:
            stderr_console().print(
                f"[bold]Anvil is running at {url}[/bold]; use --rpc-url {url}. Ctrl-C stops it."
            )
        process.wait()


def _await_answer(
    process: subprocess.Popen[bytes], url: str, port: int, stopping: threading.Event
) -> None:
    deadline = time.monotonic() + 20
    while True:
        if stopping.is_set():
            return
        if process.poll() is not None:
            if stopping.is_set():
                return
            raise LoanServicingError(
                f"Anvil exited with code {process.returncode}; is port {port} already in use?"
            )
        try:
            probe_chain_id(url, timeout=1.0)
            return
        except (NodeUnreachable, RpcError):
            if time.monotonic() > deadline:
                raise LoanServicingError(f"Anvil did not answer on {url} within 20 s.") from None
            time.sleep(0.05)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _require_free(port: int) -> None:
    """Refuse a port something already listens on (Anvil would exit while the other answers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is free
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise LoanServicingError(
                f"Port {port} on 127.0.0.1 is already in use (another node?): stop it or "
                "choose another with --port."
            ) from None


@contextmanager
def _foreground(command: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    stdout = subprocess.DEVNULL if "--silent" in command else None
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stdout)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# --------------------------------------------------------------------------- deploy


@click.command()
@click.option("--fresh", is_flag=True, help="Deploy anew even if a matching deployment exists.")
@click.option(
    "--token",
    "token_address",
    type=ADDRESS,
    help="Existing ERC-20 to lend in (required off dev chains; default: a new TestStablecoin).",
)
@click.option(
    "--token-decimals",
    type=click.IntRange(0, 18),
    default=6,
    show_default=True,
    help="Decimals of the TestStablecoin deployed on dev chains.",
)
@account_option
@json_option
@click.pass_context
def deploy(
    ctx: click.Context, fresh: bool, token_address: ChecksumAddress | None, token_decimals: int
) -> None:
    """Deploy the credit registry, the ledger and (dev chains) a test stablecoin.

    Writes deployments/<chain_id>.json; re-running reuses a deployment whose code still
    matches, --fresh deploys again. Without --rpc-url the temporary chain vanishes on exit, so
    no file is written unless --deployment names one.
    """
    state = state_of(ctx)
    w3 = state.connect()
    chain_id = int(w3.eth.chain_id)
    path = state.deployment_file(chain_id)
    write_file = not state.embedded or state.deployment_path is not None
    reused = False
    deployment: Deployment | None = None
    if not fresh and write_file and path.exists():
        deployment = read_deployment(path)
        verify_deployment(w3, deployment, state.artifacts(), path)
        reused = True
    if deployment is None:
        if token_address is None and not state.is_dev():
            raise LoanServicingError(
                "This node is not a dev chain: pass --token ADDRESS, the ERC-20 to lend in."
            )
        signer = state.signer()
        sender = TransactionSender(w3, signer, revert_decoder(state.artifacts()))
        note(state, f"Deploying from {signer.address} to chain {chain_id}...")
        deployment = deploy_system(sender, state.artifacts(), token_address, token_decimals)
        if write_file:
            write_deployment(path, deployment)
    document = {
        "chain_id": deployment.chain_id,
        "ledger": deployment.ledger.address,
        "credit_registry": deployment.credit_registry.address,
        "token": deployment.token.address,
        "block": deployment.block,
        "deployer": deployment.deployer,
        "reused": reused,
        "deployment_file": str(path) if write_file else None,
    }

    def render(console: Console) -> None:
        verb = "Reusing" if reused else "Deployed"
        console.print(
            key_value_table(
                f"{verb} loanservicing on chain {deployment.chain_id}",
                [
                    ("ledger", deployment.ledger.address),
                    ("credit registry", deployment.credit_registry.address),
                    ("token", deployment.token.address),
                    ("block", str(deployment.block)),
                    ("file", str(path) if write_file else "(none: temporary chain)"),
                ],
            )
        )

    emit(state, document, render)


# --------------------------------------------------------------------------- chain


@click.group()
def chain() -> None:
    """Dev-chain clock: read it or move it forward."""


def _dev_only(state: CliState, what: str) -> Web3:
    w3 = state.connect()
    if not state.is_dev():
        raise DevChainOnly(f"`{what}` works only on a dev chain (Anvil, Hardhat).")
    return w3


def _time_document(w3: Web3) -> dict[str, Any]:
    block = w3.eth.get_block("latest")
    timestamp = int(block["timestamp"])
    return {"block": int(block["number"]), "date": iso_date(timestamp), "timestamp": timestamp}


@chain.command("time")
@json_option
@click.pass_context
def chain_time_command(ctx: click.Context) -> None:
    """Show the time of the latest block."""
    state = state_of(ctx)
    document = _time_document(_dev_only(state, "chain time"))
    emit(
        state,
        document,
        lambda c: c.print(
            f"{document['date']} (block {document['block']}, {document['timestamp']})"
        ),
    )


@chain.command("advance")
@click.argument("duration", type=DURATION)
@json_option
@click.pass_context
def chain_advance(ctx: click.Context, duration: int) -> None:
    """Move the chain clock forward by DURATION (30d, 12h, 90min, 45s or seconds)."""
    state = state_of(ctx)
    w3 = _dev_only(state, "chain advance")
    if duration <= 0:
        raise InvalidInput("The duration must be positive.")
    increase_time(w3, duration)
    document = {"advanced_seconds": duration, **_time_document(w3)}
    emit(
        state,
        document,
        lambda c: c.print(f"Advanced {duration} s; the chain time is now {document['date']}."),
    )


# --------------------------------------------------------------------------- faucet


@click.command(context_settings={"ignore_unknown_options": True})
@click.argument("address", type=ADDRESS)
@click.argument("amount")
@json_option
@click.pass_context
def faucet(ctx: click.Context, address: ChecksumAddress, amount: str) -> None:
    """Mint AMOUNT test tokens (and 100 ether for gas) to ADDRESS on a dev chain."""
    state = state_of(ctx)
    _dev_only(state, "faucet")
    servicer = state.servicer(write=False)
    units = parse_amount(amount, servicer.token_decimals)
    faucet_tokens(servicer, address, units)
    balance = servicer.balance(address)
    document = {
        "address": address,
        "amount": units,
        "decimals": servicer.token_decimals,
        "balance": balance,
    }
    emit(
        state,
        document,
        lambda c: c.print(
            f"Minted {servicer.show(units)} to {address}; it holds {servicer.show(balance)}."
        ),
    )
