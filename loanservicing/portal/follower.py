"""The portal keeps its index current itself: an indexer following the chain in a background
thread, as ``index sync --follow`` does, committing each new range as it is mined."""

from __future__ import annotations

import logging
import threading

from loanservicing.indexing.sync import Indexer

__all__ = ["IndexFollower"]

logger = logging.getLogger(__name__)


class IndexFollower:
    """``start()`` runs ``indexer.follow`` in a daemon thread until ``stop()``; a failure is
    logged and the thread retries after a pause (the indexer already retries an unreachable
    node by itself)."""

    def __init__(self, indexer: Indexer, retry_seconds: float = 2.0) -> None:
        self.indexer = indexer
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.caught_up = threading.Event()
        """Set once the first pass reached the head."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="portal-index", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.indexer.follow(self._stop, on_idle=self.caught_up.set)
            except Exception:
                logger.exception("The portal's index follower failed; retrying.")
                self._stop.wait(self.retry_seconds)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.indexer.db.close()
