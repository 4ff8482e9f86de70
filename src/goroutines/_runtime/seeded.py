"""Seeded scheduling: every choice of a run drawn from one ``random.Random(seed)``.

``synctest.run(main, seed=n)`` makes such a run, so that a test can replay an
interleaving: the same seed gives the same order of goroutines, and the same
select choices, every time, provided the program depends on nothing else (no
plain threads, no I/O, no real time: a synctest run's clock is already fake).

What is fixed, and how:
  - One worker, so goroutines never run in parallel and never migrate
    (``Runtime.set_procs`` refuses to add workers).
  - The worker picks the next goroutine uniformly at random among all that
    are ready (started or not), where an ordinary worker takes them first in,
    first out. That order is what tests want to vary: a race that needs a
    rare interleaving shows up under some seed, and then under that seed
    every time. ``attach`` shadows the worker's ``_pick_local`` and
    ``switch_away`` (instance attributes, as the tracer does), so a parking
    goroutine always returns to the scheduler to be picked for, instead of
    switching straight to the head of the queue.
  - ``select`` chooses among ready cases with ``Worker.random``, which is the
    seeded generator's ``random`` here.
  - Timers fire in deadline order, ties in the order they were started, and
    the fake clock moves only when nothing runs (see ``bubble``).
"""

from __future__ import annotations

import random
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .g import G
    from .worker import Worker


class SeededChoices:
    """The random generator of a seeded run, and the worker hooks using it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def attach(self, worker: Worker) -> None:
        """Make ``worker`` schedule by this generator (before it runs)."""
        worker.switch_away = partial(_through_scheduler, worker)  # type: ignore[method-assign]
        worker._pick_local = partial(self._pick, worker)  # type: ignore[method-assign]
        worker.random = self.rng.random

    def _pick(self, worker: Worker) -> G | None:
        """Remove and return a ready goroutine of ``worker`` chosen at random."""
        runq, newq = worker.runq, worker.newq
        started = len(runq)
        count = started + len(newq)
        if count == 0:
            return None
        index = self.rng.randrange(count)
        queue, index = (runq, index) if index < started else (newq, index - started)
        g = queue[index]
        del queue[index]
        return g


def _through_scheduler(worker: Worker) -> Any:
    """``Worker.switch_away`` of a seeded worker: always back to the scheduler,
    which picks the next goroutine."""
    worker.current = None
    return worker.scheduler.switch()  # type: ignore[union-attr]
