"""Claiming outbox rows: on PostgreSQL a claimed row is locked (``FOR UPDATE SKIP LOCKED``)
until its mark commits, so dispatchers on several connections never send one notice twice;
a claim that fails releases its row. SQLite (one writer) reads the next row."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

import pytest

from loanservicing.monitoring.channels import Dispatcher
from loanservicing.monitoring.notices import Notice, NoticeStore
from tests.support.indexing import IndexStore, open_index
from tests.support.monitoring import make_notice as _notice


class Counting:
    """A channel that accepts everything and counts what it was sent (no dedup)."""

    def __init__(self, name: str = "counting") -> None:
        self.name = name
        self.sent: Counter[str] = Counter()
        self.lock = threading.Lock()

    def send(self, notice: Notice) -> None:
        with self.lock:
            self.sent[notice.id] += 1


def _require_row_locks(store: IndexStore) -> None:
    if store.kind != "postgresql":
        pytest.skip("Row locks are PostgreSQL's; SQLite has one writer.")


def test_a_claimed_row_is_skipped_by_another_connection_and_released_on_failure(
    tmp_path: Path, index_store: IndexStore
) -> None:
    _require_row_locks(index_store)
    path = tmp_path / "index.db"
    with open_index(path) as first_db, open_index(path) as second_db:
        first, second = NoticeStore(first_db), NoticeStore(second_db)
        with first_db.transaction():
            first.insert([_notice(1, 1), _notice(1, 2)], ["counting"])
        with first.claim("counting") as mine:
            assert mine is not None and mine.item.notice.id == _notice(1, 1).id
            with second.claim("counting") as theirs:  # the first row is locked: skipped
                assert theirs is not None and theirs.item.notice.id == _notice(1, 2).id
                theirs.delivered()
            with second.claim("counting") as nothing:
                assert nothing is None
            mine.delivered()
        assert second.pending_count("counting") == 0
        with open_index(path) as third_db:  # a claim rolled back leaves its row pending
            third = NoticeStore(third_db)
            with third_db.transaction():
                third.insert([_notice(2, 1)], ["counting"])
            with pytest.raises(RuntimeError), third.claim("counting") as claim:
                assert claim is not None
                claim.delivered()
                raise RuntimeError("killed before the commit")
            assert third.pending_count("counting") == 1


def test_dispatchers_on_two_connections_send_each_notice_once(
    tmp_path: Path, index_store: IndexStore
) -> None:
    _require_row_locks(index_store)
    path = tmp_path / "index.db"
    channel = Counting()
    with open_index(path) as db:
        store = NoticeStore(db)
        with db.transaction():
            store.insert(
                [_notice(loan, k) for loan in (1, 2, 3) for k in range(1, 41)], [channel.name]
            )
    databases = [open_index(path) for _ in range(2)]
    dispatchers = [Dispatcher(NoticeStore(db), [channel]) for db in databases]
    threads = [threading.Thread(target=d.deliver) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(channel.sent) == 120 and set(channel.sent.values()) == {1}
    assert NoticeStore(databases[0]).pending_count() == 0
    for db in databases:
        db.close()
