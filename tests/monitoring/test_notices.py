"""The notice store: idempotent schema, deterministic dedup, the outbox (no chain needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from loanservicing.monitoring.errors import NoticeStoreError
from loanservicing.monitoring.notices import NOTICES_SCHEMA_VERSION, NoticeStore
from tests.support.indexing import open_index
from tests.support.monitoring import make_notice as _notice


def test_schema_is_created_once_and_versioned_apart_from_the_index(tmp_path: Path) -> None:
    path = tmp_path / "index.db"
    with open_index(path) as db:
        index_version = db.schema_version
        store = NoticeStore(db)
        assert store.schema_version == NOTICES_SCHEMA_VERSION
        NoticeStore(db)  # again: nothing to do, nothing fails
        assert db.schema_version == index_version  # the index's own version is untouched
        tables = set(db.conn.table_names())
        assert {"monitor_notices", "monitor_outbox", "monitor_sources", "monitor_meta"} <= tables
        store.set_meta("schema_version", str(NOTICES_SCHEMA_VERSION + 1))
    with open_index(path) as db, pytest.raises(NoticeStoreError, match="newer than"):
        NoticeStore(db)


def test_a_notice_is_raised_once_with_one_outbox_row_per_channel(tmp_path: Path) -> None:
    with open_index(tmp_path / "index.db") as db:
        store = NoticeStore(db)
        channels = ("console", "webhook:http://127.0.0.1:9/hook")
        with db.transaction():
            first = store.insert([_notice(1, 1), _notice(1, 2), _notice(1, 1)], channels)
        assert [n.id for n in first] == [_notice(1, 1).id, _notice(1, 2).id]
        assert [n.seq for n in first] == [1, 2]
        with db.transaction():
            assert store.insert([_notice(1, 2), _notice(2, 1)], channels) == [
                store.notices(loan_id=2)[0]
            ]
        assert store.pending_count() == 6
        stored = store.notices()
        assert [n.id for n in stored] == [_notice(1, 1).id, _notice(1, 2).id, _notice(2, 1).id]
        assert stored[0].to_json()["amount"] == 1_066_185_001
        assert stored[0].to_json()["due_date"] == "2027-01-15T08:00:01Z"
        # Delivery is tracked per (notice, channel).
        store.mark_delivered(1, "console")
        store.mark_attempt(2, "webhook:http://127.0.0.1:9/hook", "HTTP 503", permanent=False)
        assert [p.notice.seq for p in store.pending("console")] == [2, 3]
        webhook = store.pending("webhook:http://127.0.0.1:9/hook")
        assert [(p.notice.seq, p.attempts) for p in webhook] == [(1, 0), (2, 1), (3, 0)]
        store.mark_attempt(1, "webhook:http://127.0.0.1:9/hook", "HTTP 410", permanent=True)
        assert store.pending_count("webhook:http://127.0.0.1:9/hook") == 2
        assert store.deliveries(1)[1]["failed"] == 1


def test_filters_by_time_kind_and_loan(tmp_path: Path) -> None:
    with open_index(tmp_path / "index.db") as db:
        store = NoticeStore(db)
        with db.transaction():
            store.insert(
                [_notice(1, 1), _notice(1, 2, "reminder"), _notice(2, 3), _notice(3, 4)], ()
            )
        assert [n.loan_id for n in store.notices(kind="overdue")] == [1, 2, 3]
        assert [n.loan_id for n in store.notices(since=1_800_600_003)] == [2, 3]
        assert [n.kind for n in store.notices(loan_id=1)] == ["overdue", "reminder"]
        assert store.counts()["overdue"] == 3 and store.counts()["closed"] == 0
        assert store.pending_count() == 0  # no channel configured: nothing to deliver
