"""The portal served by uvicorn, with its index follower: ``run()`` blocks (the CLI's
``serve``); ``start()``/``stop()`` run it in a thread (the tests)."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

import uvicorn
from starlette.applications import Starlette

from loanservicing.errors import LoanServicingError
from loanservicing.portal.follower import IndexFollower

__all__ = ["PortalServer"]

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _stopped(signum: int, frame: FrameType | None) -> None:
    """The server has already stopped on this signal: nothing more to do."""


class PortalServer:
    def __init__(
        self, app: Starlette, follower: IndexFollower, host: str = "127.0.0.1", port: int = 8000
    ) -> None:
        self.follower = follower
        self.host, self.port = host, port
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C or SIGTERM), then stop the follower and return.

        uvicorn catches both signals to shut down, then raises them again for the handlers
        that were there before; those are, while this runs, handlers that do nothing, so the
        caller goes on (and stops what it started, such as a temporary Anvil)."""
        self.follower.start()
        previous = {sig: signal.signal(sig, _stopped) for sig in _STOP_SIGNALS}
        try:
            self.server.run()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.follower.stop()

    def start(self, timeout: float = 30.0) -> None:
        """Serve in a background thread; return once the index is caught up and the server
        accepts connections."""
        self.follower.start()
        self._thread = threading.Thread(target=self.server.run, name="portal", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not (self.server.started and self.follower.caught_up.is_set()):
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise LoanServicingError(f"The portal did not start on {self.url}.")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.follower.stop()
