"""The execution trace: ``run(main, trace=path)``, ``goroutines run --trace`` and
``goroutines trace summarize|plot`` (``_runtime/trace.py``, ``_trace_tools.py``)."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import goroutines
from goroutines import Chan, go
from goroutines._cli import main as cli
from goroutines._runtime.trace import BLOCK, RUN, UNBLOCK, _Converter

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 30.0
WORKERS = 5


def _line(marker: str) -> int:
    """The line of this file that ends with ``marker`` (a comment)."""
    lines = Path(__file__).read_text().splitlines()
    return next(i for i, text in enumerate(lines, 1) if text.rstrip().endswith(marker))


def _load(path: Path) -> list[dict[str, Any]]:
    document = json.loads(path.read_text())
    assert document["otherData"]["producer"] == "goroutines"
    events: list[dict[str, Any]] = document["traceEvents"]
    return events


def _of(events: list[dict[str, Any]], phase: str, cat: str | None = None) -> list[dict[str, Any]]:
    return [e for e in events if e["ph"] == phase and (cat is None or e.get("cat") == cat)]


def _worker(inbox: Chan[int], results: Chan[int]) -> None:
    value = inbox.recv()  # worker blocks here
    results.send(value * 2)


def _fan_out() -> int:
    inboxes: list[Chan[int]] = [Chan() for _ in range(WORKERS)]
    results: Chan[int] = Chan(WORKERS)
    for inbox in inboxes:
        go(_worker, inbox, results)
    for i, inbox in enumerate(inboxes):
        inbox.send(i)
    return sum(results.recv() for _ in range(WORKERS))  # main blocks here


def test_trace_records_what_happened(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"
    assert goroutines.run(_fan_out, gomaxprocs=2, trace=str(path)) == sum(range(WORKERS)) * 2
    events = _load(path)

    tracks = {e["tid"]: e["args"]["name"] for e in _of(events, "M") if e["name"] == "thread_name"}
    worker_tracks = {tid for tid, name in tracks.items() if name.startswith("worker")}
    assert len(worker_tracks) == 2  # one per worker

    created = {e["args"]["goroutine"]: e["args"]["parent"] for e in _of(events, "i", "create")}
    assert created == {1: 0, **{gid: 1 for gid in range(2, 2 + WORKERS)}}

    slices = _of(events, "X")
    assert {e["args"]["goroutine"] for e in slices} == set(created)
    assert {e["tid"] for e in slices} <= worker_tracks
    for e in slices:
        gid = e["args"]["goroutine"]
        expected = "_fan_out" if gid == 1 else "_worker"
        assert re.fullmatch(rf"goroutine {gid} \(.*\.{expected}\)", e["name"]), e["name"]

    here = Path(__file__).resolve()
    worker_site = f"{here}:{_line('# worker blocks here')}"
    for block in _of(events, "i", "block"):
        args = block["args"]
        assert (args["reason"], Path(args["site"].rpartition(":")[0]).resolve()) == (
            args["reason"],
            here,
        )
        if args["goroutine"] != 1:
            assert (args["reason"], args["site"]) in {
                ("chan receive", worker_site),
                ("chan send", f"{here}:{_line('results.send(value * 2)')}"),
            }
        else:
            assert args["reason"] in {"chan send", "chan receive"}
    main_sites = {
        b["args"]["site"] for b in _of(events, "i", "block") if b["args"]["goroutine"] == 1
    }
    assert main_sites <= {
        f"{here}:{_line('inbox.send(i)')}",
        f"{here}:{_line('# main blocks here')}",
    }

    # Every block but a goroutine's last is followed by an unblock of it, later.
    unblocks = _of(events, "i", "unblock")
    for block in _of(events, "i", "block"):
        gid, ts = block["args"]["goroutine"], block["ts"]
        assert any(u["args"]["goroutine"] == gid and u["ts"] >= ts for u in unblocks), block

    # Per track: instants in time order, run slices one after another.
    for tid in worker_tracks:
        instants = [e["ts"] for e in _of(events, "i") if e["tid"] == tid]
        assert instants == sorted(instants)
        runs = sorted((e["ts"], e["dur"]) for e in slices if e["tid"] == tid)
        for (start, duration), (next_start, _) in itertools.pairwise(runs):
            assert duration >= 0
            assert start + duration <= next_start + 1e-3


@pytest.mark.allow_goroutine_leaks  # goroutine 2 never ran: abandoned
def test_trace_is_written_when_main_raises(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"

    def main() -> None:
        go(lambda: None)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        goroutines.run(main, gomaxprocs=1, trace=str(path))
    events = _load(path)
    assert {e["args"]["goroutine"] for e in _of(events, "i", "end")} >= {1}
    assert {e["args"]["goroutine"] for e in _of(events, "i", "create")} == {1, 2}


@pytest.mark.allow_goroutine_leaks
def test_trace_is_written_on_deadlock(tmp_path: Path) -> None:
    path = tmp_path / "trace.json"

    def main() -> None:
        Chan[int]().recv()  # deadlocks here

    with pytest.raises(goroutines.DeadlockError):
        goroutines.run(main, gomaxprocs=1, trace=str(path))
    events = _load(path)
    [block] = _of(events, "i", "block")
    site = f"{Path(__file__).resolve()}:{_line('# deadlocks here')}"
    assert (block["args"]["goroutine"], block["args"]["reason"]) == (1, "chan receive")
    assert Path(block["args"]["site"].rpartition(":")[0]).resolve() == Path(site.rpartition(":")[0])
    assert block["args"]["site"].endswith(f":{_line('# deadlocks here')}")
    assert not _of(events, "i", "unblock")


def test_trace_rejects_a_non_path() -> None:
    with pytest.raises(TypeError, match="trace must be a path"):
        goroutines.run(lambda: None, trace=3)  # type: ignore[arg-type]


def test_run_command_writes_the_trace(tmp_path: Path) -> None:
    script = tmp_path / "prog.py"
    script.write_text(
        textwrap.dedent(
            """\
            from goroutines import Chan, go

            def double(c, x):
                c.send(x * 2)

            c = Chan()
            for i in range(3):
                go(double, c, i)
            print(sum(c.recv() for _ in range(3)))
            """
        )
    )
    out = tmp_path / "out.json"
    proc = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--trace", str(out), str(script)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "6\n", "")
    events = _load(out)
    names = {e["name"] for e in _of(events, "X")}
    assert {f"goroutine {gid} (__main__.double)" for gid in (2, 3, 4)} <= names
    sites = {e["args"]["site"] for e in _of(events, "i", "block")}
    assert sites and all(site.startswith(str(script)) for site in sites)


# ---- goroutines trace summarize / plot ---------------------------------------------


def _sender(c: Chan[int], value: int) -> None:
    c.send(value)


def _three_receives() -> None:
    c: Chan[int] = Chan()
    for i in range(3):
        go(_sender, c, i)
        c.recv()  # summarize: the only blocking site


@pytest.fixture
def small_trace(tmp_path: Path) -> Path:
    """One worker: main starts a sender and blocks receiving from it, three times."""
    path = tmp_path / "small.json"
    goroutines.run(_three_receives, gomaxprocs=1, trace=str(path))
    return path


def test_summarize(small_trace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["trace", "summarize", str(small_trace)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert re.fullmatch(r"trace: [\d.]+ ms, 4 goroutines, 1 workers", lines[0])
    table = lines[2:7]
    assert table[0].split() == ["goroutine", "run", "ms", "blocked", "ms", "slices", "function"]
    rows = [line.split() for line in table[1:]]
    assert [row[0] for row in rows] == ["1", "2", "3", "4"]
    assert rows[0][4].endswith("._three_receives") and rows[0][3] == "4"
    assert all(row[4].endswith("._sender") and row[3] == "1" for row in rows[1:])
    assert float(rows[0][2]) > 0 and all(float(row[2]) == 0 for row in rows[1:])
    # Aligned: each numeric column ends at the same place on every line.
    for column in ("run ms", "blocked ms", "slices"):
        end = table[0].index(column) + len(column)
        assert all(line[end - 1] != " " and line[end : end + 1] in ("", " ") for line in table)
    assert lines[8] == "top blocking sites"
    site, reason, count = lines[10].rsplit(None, 4)[0], "chan receive", "3"
    assert site.endswith(f"test_trace.py:{_line('# summarize: the only blocking site')}")
    assert lines[10].split()[-4:-1] == [*reason.split(), count]


def test_summarize_into_a_closed_pipe_stops_quietly(small_trace: Path) -> None:
    """As ``goroutines trace summarize FILE | head`` does once head has read enough."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # before the child writes: its first write fails
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "goroutines", "trace", "summarize", str(small_trace)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=TIMEOUT,
        )
    finally:
        os.close(write_end)
    assert (proc.returncode, proc.stderr) == (1, "")


def test_summarize_rejects_a_file_that_is_not_a_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    assert cli(["trace", "summarize", str(bad)]) == 2
    assert "not a trace-event file" in capsys.readouterr().err
    assert cli(["trace", "summarize", str(tmp_path / "missing.json")]) == 2


def test_plot(small_trace: Path, tmp_path: Path) -> None:
    import matplotlib.image
    import numpy

    png = tmp_path / "trace.png"
    assert (
        cli(["trace", "plot", str(small_trace), "-o", str(png), "--width", "8", "--dpi", "50"]) == 0
    )
    pixels = matplotlib.image.imread(str(png))
    height = 1.2 + 0.8 * 1  # one worker row (see _trace_tools.plot)
    assert pixels.shape[:2] == (round(height * 50), 8 * 50)
    assert float(numpy.var(pixels[..., :3])) > 0.001  # not blank


def test_plot_without_matplotlib(
    small_trace: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    png = tmp_path / "trace.png"
    assert cli(["trace", "plot", str(small_trace), "-o", str(png)]) == 2
    assert "needs matplotlib" in capsys.readouterr().err
    assert not png.exists()


def test_an_unblock_recorded_before_its_block_is_shown_at_the_block() -> None:
    """On two workers a waker can complete a goroutine between the goroutine
    publishing itself as a waiter and switching away, which is when its block
    is recorded: the unblock comes first in time, and is shown at the block."""
    worker_1 = [(1_000, RUN, 7), (3_000, BLOCK, 7, "chan receive", None, 0)]
    worker_2 = [(1_500, RUN, 8), (2_000, UNBLOCK, 7, 8)]
    events = _Converter(0, 5_000).convert([(1, worker_1), (2, worker_2)])
    [block] = [e for e in events if e.get("cat") == "block"]
    [unblock] = [e for e in events if e.get("cat") == "unblock"]
    assert (block["ts"], unblock["ts"]) == (3.0, 3.0)
    assert (unblock["tid"], unblock["args"]) == (2, {"goroutine": 7, "by": 8})
