"""A computation run in a forked child process while the parent goes on with other work.

The indexer's replay of a large range (every repayment through the ledger's accounting) is
pure computation on state the parent already holds, and it does not need the rows the parent
writes meanwhile. A forked child inherits that state without copying it through a pipe, runs
the replay on the machine's other core, and sends back only its result (pickled). The parent
falls back to computing in-process whenever forking is not safe: no ``os.fork`` (Windows),
or other threads alive (a lock one of them holds would stay held in the child), or a child
that failed or died.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["ForkedCall"]

T = TypeVar("T")


class ForkedCall(Generic[T]):
    """``fn()`` computed in a forked child; :meth:`result` waits for its value.

    Use as a context manager (or call :meth:`close`), so that a child whose result is never
    asked for is stopped and reaped."""

    def __init__(self, pid: int, reader: int) -> None:
        self._pid: int | None = pid
        self._reader: int | None = reader

    @staticmethod
    def can_fork() -> bool:
        """Whether a fork is safe here: the platform forks and no other thread is alive."""
        return hasattr(os, "fork") and threading.active_count() == 1

    @classmethod
    def start(cls, fn: Callable[[], T]) -> ForkedCall[T] | None:
        """Fork a child computing ``fn()``; None (nothing started) when forking is not safe."""
        if not cls.can_fork():
            return None
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, and leave without the parent's clean-up
            code = 0
            try:
                os.close(reader)
                try:
                    payload = pickle.dumps((True, fn()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:  # reported to the parent
                    payload = pickle.dumps((False, f"{type(exc).__name__}: {exc}"))
                with os.fdopen(writer, "wb") as out:
                    out.write(payload)
            except BaseException:  # the parent sees no result
                code = 1
            finally:
                os._exit(code)
        os.close(writer)
        return cls(pid, reader)

    def result(self) -> tuple[bool, T | str]:
        """(True, the value), or (False, why the child gave none: its exception or its end)."""
        if self._reader is None or self._pid is None:
            raise RuntimeError("the forked call's result was taken or it was closed")
        with os.fdopen(self._reader, "rb") as source:
            self._reader = None
            payload = source.read()
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        if not payload:
            return False, f"the child process ended with status {status} and no result"
        ok, value = pickle.loads(payload)
        return bool(ok), value

    def close(self) -> None:
        """Stop the child if it still runs, reap it, and close the pipe."""
        if self._reader is not None:
            os.close(self._reader)
            self._reader = None
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
            self._pid = None

    def __enter__(self) -> ForkedCall[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
