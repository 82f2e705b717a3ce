"""The portal served by uvicorn, with its index follower: ``run()`` blocks (the CLI's
``serve``); ``start()``/``stop()`` run it in a thread (the tests)."""

from __future__ import annotations

import threading
import time

import uvicorn
from starlette.applications import Starlette

from loanservicing.errors import LoanServicingError
from loanservicing.portal.follower import IndexFollower

__all__ = ["PortalServer"]


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
        """Serve until interrupted (Ctrl-C or SIGTERM), then stop the follower."""
        self.follower.start()
        try:
            self.server.run()
        finally:
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
