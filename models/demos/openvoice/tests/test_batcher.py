# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""runner/batcher.py on its own (no device): order, keys, limits, errors per request, idle workers."""

from __future__ import annotations

import threading
import time

import pytest

from models.demos.openvoice.runner import batcher
from models.demos.openvoice.runner.batcher import RequestBatcher


def test_results_come_back_in_order_within_the_limits() -> None:
    """Items of two keys queued at once: one key per batch, at most max_batch items and max_cost summed cost."""
    ran: list[list[int]] = []
    run = lambda items: ran.append(list(items)) or [i * 10 for i in items]  # noqa: E731
    b = RequestBatcher(run, max_batch=3, wait_ms=50, key=lambda i: i % 2, cost=lambda i: i, max_cost=10)
    items = [1, 2, 3, 4, 5, 6, 7, 9]
    assert b.submit_many(items) == [i * 10 for i in items]
    assert sorted(i for batch in ran for i in batch) == items and b.batch_sizes == [len(batch) for batch in ran]
    for batch in ran:
        assert len({i % 2 for i in batch}) == 1 and len(batch) <= 3 and (len(batch) == 1 or sum(batch) <= 10), ran
    # the split of one gathered list: odd 1+3+5, then 7 and 9 alone (cost); even 2+4, then 6 (cost)
    assert b.batches(items) == [[0, 2, 4], [1, 3], [5], [6], [7]]
    b.close()


def test_a_failing_request_fails_alone() -> None:
    """A batch that raises is re-run item by item: the bad request gets its error, the others their results."""

    def run(items):
        if -1 in items:
            raise ValueError("bad request")
        return items

    b = RequestBatcher(run, max_batch=4, wait_ms=200)
    results: dict[int, object] = {}

    def submit(item: int) -> None:
        try:
            results[item] = b.submit(item)
        except ValueError as error:
            results[item] = error

    threads = [threading.Thread(target=submit, args=(i,)) for i in (1, -1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results[1] == 1 and results[2] == 2 and isinstance(results[-1], ValueError)
    assert b.batch_sizes[0] == 3  # they shared a batch first
    b.close()


def test_an_idle_worker_exits_and_a_new_one_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batcher, "IDLE_SECONDS", 0.1)
    b = RequestBatcher(lambda items: items, wait_ms=0)
    assert b.submit(1) == 1
    time.sleep(0.5)
    assert b._worker is None  # no thread (and no reference to the model) while idle
    assert b.submit(2) == 2
    b.close()
    assert b.submit(3) == 3  # usable after close
    b.close()


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        RequestBatcher(lambda items: items, max_batch=0)
