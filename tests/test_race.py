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
