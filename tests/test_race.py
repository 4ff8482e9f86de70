"""The race detector's sessions and options (``goroutines._race``): ``GORACE``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from goroutines import _race

pytestmark = pytest.mark.timeout(60)


def test_gorace_names_modules_to_include_and_exclude() -> None:
    assert _race.options("") == {"include": (), "exclude": ()}
    assert _race.options(" include=a,b.c  exclude=d ") == {
        "include": ("a", "b.c"),
        "exclude": ("d",),
    }


@pytest.mark.parametrize("bad", ["halt_on_error=1", "include", "=x"])
def test_gorace_refuses_what_it_does_not_understand(bad: str) -> None:
    with pytest.raises(ValueError, match=f"GORACE: cannot understand '{bad}'"):
        _race.options(bad)


RACY_MODULE = """\
from goroutines import go, sync


class Box:
    x = 0


def race():
    box = Box()
    wg = sync.WaitGroup()
    for _ in range(2):
        wg.go(bump, box)
    wg.wait()


def bump(box):
    box.x += 1
"""


@pytest.mark.parametrize(("gorace", "races"), [("", 1), ("exclude=racy", 0)])
def test_an_excluded_module_is_not_instrumented(tmp_path: Path, gorace: str, races: int) -> None:
    (tmp_path / "racy.py").write_text(RACY_MODULE)
    (tmp_path / "prog.py").write_text("import racy\nracy.race()\n")
    env = {**os.environ, "GORACE": gorace}
    proc = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--race", "prog.py"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env=env,
    )
    assert proc.stderr.count("WARNING: DATA RACE") == races, proc.stderr
    assert proc.returncode == (66 if races else 0), proc.stderr


COUNTER_MODULE = """\
class Counter:
    def __init__(self):
        self.n = 0

    def bump(self):
        self.n += 1
"""

APP = """\
import goroutines
from goroutines import sync

import counters  # imported before the detector comes on


def main():
    counter = counters.Counter()
    wg = sync.WaitGroup()
    for _ in range(2):
        wg.go(counter.bump)
    wg.wait()


goroutines.run(main, gomaxprocs=1, race=True)
print("races:", goroutines.runtime.races())
"""


@pytest.mark.parametrize(("gorace", "races"), [("", 1), ("exclude=counters", 0)])
def test_run_race_sees_user_modules_imported_before_it(
    tmp_path: Path, gorace: str, races: int
) -> None:
    (tmp_path / "counters.py").write_text(COUNTER_MODULE)
    (tmp_path / "app.py").write_text(APP)
    proc = subprocess.run(
        [sys.executable, "app.py"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
        env={**os.environ, "GORACE": gorace},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"races: {races}\n"
    assert proc.stderr.count("WARNING: DATA RACE") == races, proc.stderr
    if races:
        assert "  Counter.bump()\n      " + str(tmp_path / "counters.py") + ":6" in proc.stderr


# ---- the seed's counter: 1,000 goroutines, counter += 1 ------------------------------------

SEED = """\
import goroutines
from goroutines import Chan, atomic, go, sync

N = 1000
counter = 0
total = atomic.Int()
mu = sync.Mutex()


def racy(wg):
    global counter
    counter += 1
    wg.done()


def locked(wg):
    global counter
    with mu:
        counter += 1
    wg.done()


def atomically(wg):
    total.add(1)
    wg.done()


def by_channel(wg, increments):
    increments.send(1)
    wg.done()


def closure():
    count = 0

    def bump(wg):
        nonlocal count
        count += 1
        wg.done()

    wg = sync.WaitGroup()
    for _ in range(N):
        wg.add(1)
        go(bump, wg)
    wg.wait()


def main(form):
    global counter
    if form == "closure":
        return closure()
    wg = sync.WaitGroup()
    increments = Chan()
    if form == "by_channel":
        def owner():
            global counter
            for step in increments:
                counter += step
        go(owner)
    for _ in range(N):
        wg.add(1)
        if form == "by_channel":
            go(by_channel, wg, increments)
        else:
            go(globals()[form], wg)
    wg.wait()
    if form == "by_channel":
        increments.close()


import sys
goroutines.run(main, sys.argv[1])
"""


@pytest.mark.parametrize("procs", [1, 2])
@pytest.mark.parametrize(
    ("form", "racy"),
    [
        ("racy", True),
        ("closure", True),
        ("locked", False),
        ("atomically", False),
        ("by_channel", False),
    ],
)
def test_the_seed_s_counter(tmp_path: Path, form: str, racy: bool, procs: int) -> None:
    # The racy forms are reported whatever the schedule (races are logical);
    # a Mutex, an atomic or one goroutine owning the counter are race-free.
    (tmp_path / "counter.py").write_text(SEED)
    command = ["goroutines", "run", "--race", "--gomaxprocs", str(procs), "counter.py", form]
    proc = subprocess.run(
        [sys.executable, "-m", *command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    if racy:
        assert proc.returncode == 66, proc.stderr
        what = "global 'counter' of module __main__" if form == "racy" else "variable 'count'"
        assert f"Write at {what}" in proc.stderr
    else:
        assert (proc.returncode, proc.stderr) == (0, "")
