# SPDX-FileCopyrightText: © 2026 Tenstorrent AI ULC
# SPDX-License-Identifier: Apache-2.0
"""Concurrent requests gathered into device batches.

Callers on any thread `submit` one item and block for its result. One worker thread owns the device side:
it takes the oldest waiting item, waits at most `wait_ms` for more while the batch is not full (requests
that arrived while the previous batch ran are already waiting, so under load it does not wait at all),
then runs the items as batches of one `key` (items of another key -- another shape bucket, another
language -- form their own batch) of at most `max_batch` items and `max_cost` summed cost (the cost bounds
device memory: a batch never holds more frames than the budget, whatever its size), in arrival order.
Results go back to each caller.

The worker exits after `IDLE_SECONDS` without requests, so an idle batcher holds no thread (nor, through
`run_batch`, the device tensors of its model); the next request starts a new one. A failing batch of several
items is re-run item by item, so each request gets its own result or its own
error: one bad request never fails the others, and nothing is dropped.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable, Generic, Hashable, Sequence, TypeVar

from loguru import logger

IDLE_SECONDS = 2.0  # an idle worker exits (and lets go of the model); the next `submit` starts a new one
Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass
class _Pending(Generic[Item, Result]):
    item: Item
    future: Future


class RequestBatcher(Generic[Item, Result]):
    def __init__(
        self,
        run_batch: Callable[[list[Item]], Sequence[Result]],
        max_batch: int = 8,
        wait_ms: float = 5.0,
        key: Callable[[Item], Hashable] = lambda item: None,
        cost: Callable[[Item], int] = lambda item: 1,
        max_cost: int | None = None,
        name: str = "batcher",
    ) -> None:
        """`run_batch(items)` returns one result per item, in order; `max_batch` >= 1, `wait_ms` >= 0."""
        if max_batch < 1 or wait_ms < 0:
            raise ValueError(f"max_batch must be >= 1 and wait_ms >= 0, got {max_batch}, {wait_ms}")
        self.run_batch, self.max_batch, self.wait = run_batch, max_batch, wait_ms / 1000.0
        self.key, self.cost, self.max_cost, self.name = key, cost, max_cost, name
        self.batch_sizes: list[int] = []  # one entry per device batch run (what the tests count)
        self._queue: queue.Queue[_Pending | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, item: Item) -> Result:
        """Run `item` in the next batch it fits and return its result (or raise its error)."""
        return self.submit_many([item])[0]

    def submit_many(self, items: Sequence[Item]) -> list[Result]:
        """Several items queued at once (they can share a batch); their results in order (the first error raised)."""
        pending = [_Pending(item, Future()) for item in items]
        with self._start:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._serve, name=self.name, daemon=True)
                self._worker.start()
            for p in pending:
                self._queue.put(p)
        return [p.future.result() for p in pending]

    def close(self) -> None:
        """Stop the worker once the waiting items are served (a later `submit` starts a new one)."""
        with self._start:  # not joined under the lock: an idle worker takes it to exit
            worker, self._worker = self._worker, None
            if worker is not None and worker.is_alive():
                self._queue.put(None)  # a worker about to exit on idle sees it and takes it instead
            else:
                worker = None
        if worker is not None:
            worker.join()

    def _gather(self, first: _Pending) -> tuple[list[_Pending], bool]:
        """`first` and what arrives within the wait, up to max_batch items; True when close was asked."""
        items, deadline = [first], time.monotonic() + self.wait
        while len(items) < self.max_batch:
            try:
                nxt = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if nxt is None:
                return items, True
            items.append(nxt)
        return items, False

    def batches(self, items: list[Item]) -> list[list[int]]:
        """Indices of `items` split into batches: one key each, arrival order, within max_batch and max_cost."""
        batches: list[list[int]] = []
        open_batch: dict[Hashable, list[int]] = {}
        for index, item in enumerate(items):
            key = self.key(item)
            batch = open_batch.get(key)
            full = batch is not None and (
                len(batch) >= self.max_batch
                or (self.max_cost is not None and sum(self.cost(items[i]) for i in batch) + self.cost(item) > self.max_cost)
            )
            if batch is None or full:
                batch = open_batch[key] = []
                batches.append(batch)
            batch.append(index)
        return batches

    def _run(self, pending: list[_Pending]) -> None:
        items = [p.item for p in pending]
        self.batch_sizes.append(len(items))
        try:
            results = list(self.run_batch(items))
            if len(results) != len(items):
                raise RuntimeError(f"{self.name}: {len(results)} results for {len(items)} requests")
        except BaseException as error:
            if len(pending) > 1:
                logger.warning(f"{self.name}: batch of {len(pending)} failed ({error}); running its requests one by one")
                for p in pending:
                    self._run([p])
            else:
                pending[0].future.set_exception(error)
            return
        for p, result in zip(pending, results):
            p.future.set_result(result)

    def _serve(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._start:  # `submit` enqueues under this lock: nothing can arrive unseen
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            if first is None:
                return
            pending, closing = self._gather(first)
            for batch in self.batches([p.item for p in pending]):
                self._run([pending[i] for i in batch])
            if closing:
                return
