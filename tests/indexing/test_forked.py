"""A computation in a forked child: its value, its failure, its death, and when none is forked."""

from __future__ import annotations

import os
import threading
import time

from loanservicing.indexing.forked import ForkedCall


def _fails() -> int:
    raise ValueError("no such loan")


def _dies() -> int:
    os._exit(3)


def test_the_childs_value_comes_back() -> None:
    state = {"loans": list(range(1_000))}  # inherited by the child, not sent to it
    with ForkedCall.start(lambda: sum(state["loans"])) as call:  # type: ignore[union-attr]
        assert call.result() == (True, 499_500)


def test_an_exception_in_the_child_is_reported_not_raised() -> None:
    with ForkedCall.start(_fails) as call:  # type: ignore[union-attr]
        assert call.result() == (False, "ValueError: no such loan")


def test_a_child_that_dies_gives_no_result() -> None:
    with ForkedCall.start(_dies) as call:  # type: ignore[union-attr]
        ok, why = call.result()
    assert not ok
    assert "no result" in str(why)


def test_closing_stops_a_child_still_running() -> None:
    call = ForkedCall.start(lambda: time.sleep(60))
    assert call is not None
    pid = call._pid
    call.close()
    assert pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:  # pragma: no cover - the child was not reaped
        raise AssertionError("the child still runs")


def test_no_fork_while_another_thread_is_alive() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert ForkedCall.start(lambda: 1) is None
    finally:
        stop.set()
        other.join()
    assert ForkedCall.can_fork() == hasattr(os, "fork")
