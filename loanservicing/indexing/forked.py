"""A computation run in a forked child process while the parent goes on with other work.

The indexer's replay of a large range (every repayment through the ledger's accounting) is
pure computation on state the parent already holds, and it does not need the rows the parent
writes meanwhile. A forked child inherits that state without copying it through a pipe, runs
the replay on the machine's other core, is fed the range's events part by part as they are
fetched (pickled through a pipe, by a thread of the parent so that the parent never waits on
a busy child), and sends back only its result. The parent computes in-process instead
whenever forking is not safe: no ``os.fork`` (Windows), or other threads alive (a lock one of
them holds would stay held in the child), or a child that failed or died.

One forked call at a time: a child forked while another one's feed is open would hold that
feed's write end, and the other child would never see its end.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO, Any, Generic, TypeVar

__all__ = ["ForkedCall", "ForkedCallFailed"]

T = TypeVar("T")

_LENGTH = struct.Struct("<Q")


class ForkedCallFailed(Exception):
    """The child gave no value: its exception (named, with its message) or its end."""


def _read_feed(source: IO[bytes]) -> Iterator[Any]:
    """The objects the parent sent, in order, until it ended the feed."""
    while True:
        head = source.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return
        (size,) = _LENGTH.unpack(head)
        yield pickle.loads(source.read(size))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class ForkedCall(Generic[T]):
    """``fn(fed)`` computed in a forked child, ``fed`` the objects given to :meth:`send`;
    :meth:`result` ends the feed and waits for the value.

    Use as a context manager (or call :meth:`close`), so that a child whose result is never
    asked for is stopped and reaped."""

    def __init__(self, pid: int, reader: int, feed: int) -> None:
        self._pid: int | None = pid
        self._reader: int | None = reader
        self._feed: int | None = feed
        self._writer: ThreadPoolExecutor | None = None

    @staticmethod
    def can_fork() -> bool:
        """Whether a fork is safe here: the platform forks and no other thread is alive."""
        return hasattr(os, "fork") and threading.active_count() == 1

    @classmethod
    def start(cls, fn: Callable[[Iterator[Any]], T]) -> ForkedCall[T] | None:
        """Fork a child computing ``fn(fed)``; None (nothing started) when forking is not
        safe."""
        if not cls.can_fork():
            return None
        reader, writer = os.pipe()
        feed_in, feed_out = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, and leave without the parent's clean-up
            code = 0
            try:
                os.close(reader)
                os.close(feed_out)
                with os.fdopen(feed_in, "rb") as fed:
                    try:
                        value: tuple[bool, Any] = (True, fn(_read_feed(fed)))
                    except BaseException as exc:  # reported to the parent
                        value = (False, f"{type(exc).__name__}: {exc}")
                _write_all(writer, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            except BaseException:  # the parent sees no result
                code = 1
            finally:
                os._exit(code)
        os.close(writer)
        os.close(feed_in)
        return cls(pid, reader, feed_out)

    def send(self, item: Any) -> None:
        """Feed ``item`` to the child (pickled here, written by a thread of this process)."""
        if self._feed is None:
            raise RuntimeError("the forked call's feed is closed")
        payload = pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="forked-feed")
        self._writer.submit(_write_all, self._feed, _LENGTH.pack(len(payload)) + payload)

    def _end_feed(self, wait: bool) -> None:
        if self._writer is not None:
            self._writer.shutdown(wait=wait, cancel_futures=not wait)
            self._writer = None
        if self._feed is not None:
            os.close(self._feed)
            self._feed = None

    def result(self) -> T:
        """End the feed and wait for the child's value; raises :class:`ForkedCallFailed`
        when it gave none (its exception, or its end)."""
        if self._reader is None or self._pid is None:
            raise RuntimeError("the forked call's result was taken or it was closed")
        try:
            self._end_feed(wait=True)
        except OSError as exc:  # the child is gone: its reader closed
            raise ForkedCallFailed(f"the feed to the child failed ({exc})") from exc
        with os.fdopen(self._reader, "rb") as source:
            self._reader = None
            payload = source.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if not payload:
            raise ForkedCallFailed(f"the child process ended with status {status} and no result")
        ok, value = pickle.loads(payload)
        if not ok:
            raise ForkedCallFailed(str(value))
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the child if it still runs, reap it, and close the pipes."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self._end_feed(wait=False)
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None

    def __enter__(self) -> ForkedCall[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
