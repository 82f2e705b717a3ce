"""A computation in a forked child: its value, what it is fed, its failure, its death, and
when none is forked."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from loanservicing.indexing.forked import ForkedCall, ForkedCallFailed


def _fails(fed: Iterator[Any]) -> int:
    raise ValueError("no such loan")


def _dies(fed: Iterator[Any]) -> int:
    os._exit(3)


def _started(fn: Any) -> ForkedCall[Any]:
    call = ForkedCall.start(fn)
    assert call is not None
    return call


def test_the_childs_value_comes_back_and_it_sees_the_parents_state() -> None:
    state = {"loans": list(range(1_000))}  # inherited by the child, not sent to it
    with _started(lambda fed: sum(state["loans"])) as call:
        assert call.result() == 499_500


def test_the_child_is_fed_in_order_more_than_a_pipe_holds() -> None:
    with _started(lambda fed: [len(part) for part in fed]) as call:
        for n in range(1, 40):
            call.send(b"x" * 10_000 * n)  # 7.8 MB in all: the writer thread waits, not us
        assert call.result() == [10_000 * n for n in range(1, 40)]


def test_an_exception_in_the_child_is_reported_as_its_name_and_message() -> None:
    with _started(_fails) as call, pytest.raises(ForkedCallFailed, match="ValueError: no such"):
        call.result()


def test_a_child_that_dies_gives_no_result() -> None:
    with _started(_dies) as call:
        call.send("a part it never reads")
        with pytest.raises(ForkedCallFailed):
            call.result()


def test_closing_stops_a_child_still_running() -> None:
    call = _started(lambda fed: time.sleep(60))
    pid = call._pid
    call.close()
    assert pid is not None
    with pytest.raises(ChildProcessError):  # reaped: no longer this process's child
        os.waitpid(pid, os.WNOHANG)


def test_no_fork_while_another_thread_is_alive() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert ForkedCall.start(lambda fed: 1) is None
    finally:
        stop.set()
        other.join()
    assert ForkedCall.can_fork() == hasattr(os, "fork")
