"""The one raw JSON-RPC client: single calls and batches over HTTP, timeouts, retries.

Everything that needs raw speed or raw answers talks to the node through :class:`RpcClient`:
the indexer (``eth_getLogs`` and header batches), the bulk transaction path (batches of
``eth_sendRawTransaction`` and receipts) and the probe that tells whether a node answers at
all (:func:`probe_chain_id`). Results stay as the node sent them (hex strings, dicts): no
web3 formatters or middleware run, which is what makes batches of thousands cheap.

Failures are mapped onto :mod:`loanservicing.chain.errors`:

- the node did not answer (connection refused or reset, an HTTP 429 or 5xx, an unreadable
  reply): :class:`~loanservicing.errors.NodeUnreachable`, or :class:`RpcTimeout` (a subclass)
  when it did not answer in time. With ``retries`` the request is sent again after a capped
  exponential :class:`Backoff`; by default it is not (a resent raw transaction would be
  rejected as already known), and callers that retry whole steps use :class:`Backoff` too;
- the node answered with a JSON-RPC error: :class:`RpcError` (method, code, message).
  :meth:`RpcClient.responses` returns the answers of a batch as they are, errors included, for
  callers that handle an error per request.

A ``Web3`` whose provider is not HTTP (IPC, a test provider) is served through the provider's
own ``make_request``/``make_batch_request`` (:meth:`RpcClient.for_web3`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import requests
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from loanservicing.chain.errors import RpcError, RpcTimeout
from loanservicing.errors import NodeUnreachable

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "Backoff",
    "RpcClient",
    "RpcError",
    "RpcTimeout",
    "probe_chain_id",
    "response_result",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_BATCH_SIZE = 250
"""Requests per JSON-RPC batch on the bulk path (raw transactions, receipts)."""

Call = tuple[str, Sequence[Any]]
"""A JSON-RPC method and its parameters."""

try:  # msgspec reads and writes JSON several times faster than json (optional)
    import msgspec.json as _msgspec_json

    def _loads(data: bytes) -> Any:
        return _msgspec_json.decode(data)

    def _dumps(value: Any) -> bytes:
        return _msgspec_json.encode(value)

except ImportError:  # pragma: no cover - optional speed-up

    def _loads(data: bytes) -> Any:
        return json.loads(data)

    def _dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Backoff:
    """Capped exponential delays: ``initial``, twice that, ... up to ``maximum`` seconds."""

    initial: float = 0.25
    maximum: float = 10.0
    _next: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._next = self.initial

    def next_delay(self) -> float:
        """The delay to wait now; the following one doubles (up to the cap)."""
        delay = self._next
        self._next = min(self._next * 2, self.maximum)
        return delay

    def reset(self) -> None:
        self._next = self.initial


def response_result(response: Mapping[str, Any], method: str) -> Any:
    """The ``result`` of one JSON-RPC response; an ``error`` raises :class:`RpcError`."""
    if "error" in response:
        error = response["error"]
        if isinstance(error, Mapping):
            raise RpcError(method, error.get("code"), str(error.get("message")), error.get("data"))
        raise RpcError(method, None, str(error))
    return response.get("result")


class RpcClient:
    """A JSON-RPC client over one kept-alive HTTP session; see the module docstring.

    ``url`` may be changed between requests (e.g. to go through a proxy). Safe to share
    between threads: request ids are allocated under a lock.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retries: int = 0,
        backoff: Backoff | None = None,
        request_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff or Backoff()
        self.session = requests.Session()
        self.session.headers.update({"Content-Type": "application/json"})
        self._request_kwargs = dict(request_kwargs or {})
        self._request_kwargs.pop("timeout", None)
        self._next_id = 1
        self._id_lock = threading.Lock()
        self._provider_post: Callable[[Any], Any] | None = None

    @classmethod
    def for_web3(cls, w3: Web3, timeout: float = 60.0) -> RpcClient:
        """A client for the node behind ``w3``: its HTTP endpoint with the provider's headers
        and proxies, or, for any other provider, the provider itself."""
        provider = w3.provider
        if isinstance(provider, HTTPProvider):
            return cls(
                str(provider.endpoint_uri),
                timeout=timeout,
                request_kwargs=provider.get_request_kwargs(),
            )
        client = cls(repr(provider), timeout=timeout)
        client._provider_post = lambda body: _through_provider(w3, body)
        return client

    # ------------------------------------------------------------------ public
    def call(self, method: str, params: Sequence[Any] = (), timeout: float | None = None) -> Any:
        """One request; its result, or RpcError for an error answer."""
        (request_id,) = self._allocate(1)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}
        reply = self._post(body, timeout)
        if not isinstance(reply, Mapping):
            raise RpcError(method, None, f"unexpected reply {reply!r}")
        return response_result(reply, method)

    def batch(self, calls: Sequence[Call], timeout: float | None = None) -> list[Any]:
        """The results of ``calls`` in their order, in one HTTP request; any error answer
        raises RpcError naming its method."""
        return [
            response_result(response, method)
            for response, (method, _) in zip(self.responses(calls, timeout), calls, strict=True)
        ]

    def responses(
        self, calls: Sequence[Call], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """The responses (dicts holding ``result`` or ``error``) of ``calls`` in their order,
        in one HTTP request; only a refused or incomplete batch raises RpcError."""
        if not calls:
            return []
        ids = self._allocate(len(calls))
        body = [
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}
            for request_id, (method, params) in zip(ids, calls, strict=True)
        ]
        reply = self._post(body, timeout)
        what = f"a batch of {len(calls)} requests"
        if self._provider_post is not None and isinstance(reply, list):
            return [dict(item) for item in reply]  # a provider answers in order, ids its own
        if not isinstance(reply, list):  # some nodes answer a whole batch with one error
            error = reply.get("error") if isinstance(reply, Mapping) else reply
            raise RpcError(what, _code(error), f"the node refused the batch ({_message(error)})")
        by_id = {item.get("id"): item for item in reply if isinstance(item, dict)}
        try:
            return [by_id[request_id] for request_id in ids]
        except KeyError:
            raise RpcError(what, None, f"the node answered with {len(reply)} responses") from None

    def close(self) -> None:
        """Close the kept-alive HTTP connections."""
        self.session.close()

    def chain_id(self, timeout: float | None = None) -> int:
        return int(self.call("eth_chainId", [], timeout), 16)

    @cached_property
    def is_dev_chain(self) -> bool:
        """Whether the node is Anvil, Hardhat or Ganache, whose dev methods work (asked once)."""
        for method in ("anvil_nodeInfo", "hardhat_metadata"):
            try:
                self.call(method)
            except RpcError:  # not this kind of node
                continue
            return True
        try:
            client = str(self.call("web3_clientVersion")).lower()
        except RpcError:
            return False
        return any(name in client for name in ("anvil", "hardhat", "ganache"))

    # --------------------------------------------------------------- transport
    def _allocate(self, count: int) -> range:
        with self._id_lock:
            first = self._next_id
            self._next_id += count
        return range(first, first + count)

    def _post(self, body: Any, timeout: float | None) -> Any:
        backoff = Backoff(self.backoff.initial, self.backoff.maximum)
        attempt = 0
        while True:
            try:
                if self._provider_post is not None:
                    return self._provider_post(body)
                return self._post_once(body, timeout or self.timeout)
            except NodeUnreachable as exc:
                if attempt >= self.retries:
                    raise
                attempt += 1
                delay = backoff.next_delay()
                logger.warning(
                    "%s; retrying in %.2f s (%d of %d).", exc, delay, attempt, self.retries
                )
                time.sleep(delay)

    def _post_once(self, body: Any, timeout: float) -> Any:
        try:
            response = self.session.post(
                self.url, data=_dumps(body), timeout=timeout, **self._request_kwargs
            )
        except requests.Timeout as exc:
            raise RpcTimeout(
                f"The node at {self.url} did not answer a JSON-RPC {_described(body)} within "
                f"{timeout:g} s ({exc})."
            ) from exc
        except (requests.RequestException, OSError) as exc:
            raise NodeUnreachable(
                f"A JSON-RPC {_described(body)} to {self.url} failed: {exc}."
            ) from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise NodeUnreachable(
                f"A JSON-RPC {_described(body)} to {self.url} failed: HTTP {response.status_code}."
            )
        try:
            return _loads(response.content)
        except ValueError as exc:
            raise NodeUnreachable(
                f"A JSON-RPC {_described(body)} to {self.url} got an unreadable reply "
                f"(HTTP {response.status_code}): {exc}."
            ) from exc


def probe_chain_id(rpc_url: str, timeout: float) -> int:
    """Ask ``rpc_url`` for eth_chainId once (no retries); NodeUnreachable if nothing answers
    (RpcError if something answers with an error)."""
    client = RpcClient(rpc_url, timeout=timeout)
    try:
        return client.chain_id()
    except (TypeError, ValueError) as exc:
        raise NodeUnreachable(
            f"The node at {rpc_url} sent an unreadable chain id ({exc})."
        ) from exc
    finally:
        client.close()


def _through_provider(w3: Web3, body: Any) -> Any:
    if isinstance(body, list):
        requests_ = [(RPCEndpoint(r["method"]), r["params"]) for r in body]
        reply = w3.provider.make_batch_request(requests_)  # type: ignore[attr-defined]
        return reply
    return w3.provider.make_request(RPCEndpoint(body["method"]), body["params"])


def _described(body: Any) -> str:
    if isinstance(body, list):
        return f"batch of {len(body)} requests"
    return f"request {body.get('method')}"


def _code(error: Any) -> int | None:
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, int) else None


def _message(error: Any) -> str:
    if isinstance(error, Mapping):
        return str(error.get("message", error))
    return str(error)
