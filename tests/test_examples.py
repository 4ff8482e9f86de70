"""Run every example under examples/gobyexample/ and examples/seeds/ in a fresh
interpreter and check what it prints.

Each script has an entry in EXPECTED: a list of checks over its output lines.
The tests are parametrized over the files on disk, so a new example without an
entry fails until its expected output is written down. Output that depends on
scheduling (which worker takes which job, how goroutines interleave) is
checked for what holds in every run: each job done once, a total, an order the
program enforces, a lower bound on a wait. The scripts inherit this process's
environment: run the suite with GOMAXPROCS=1 and with GOMAXPROCS=2 to run the
examples on one and on two processors.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SCRIPTS = sorted(
    path.relative_to(EXAMPLES).as_posix()
    for directory in ("gobyexample", "seeds")
    for path in (EXAMPLES / directory).glob("*.py")
)

# Go by Example's concurrency chapters (URL slug) and the script porting each.
# Two scripts differ from their slug: a goroutines.py or select.py next to the
# script would shadow the goroutines package or the standard select module.
CHAPTERS = {
    "goroutines": "goroutine_basics.py",
    "channels": "channels.py",
    "channel-buffering": "channel_buffering.py",
    "channel-synchronization": "channel_synchronization.py",
    "channel-directions": "channel_directions.py",
    "select": "select_basics.py",
    "timeouts": "timeouts.py",
    "non-blocking-channel-operations": "non_blocking_channel_operations.py",
    "closing-channels": "closing_channels.py",
    "range-over-channels": "range_over_channels.py",
    "timers": "timers.py",
    "tickers": "tickers.py",
    "worker-pools": "worker_pools.py",
    "waitgroups": "waitgroups.py",
    "rate-limiting": "rate_limiting.py",
    "atomic-counters": "atomic_counters.py",
    "mutexes": "mutexes.py",
    "stateful-goroutines": "stateful_goroutines.py",
    "context": "context.py",
}

Check = Callable[[list[str]], None]


def env_gomaxprocs() -> int | None:
    """The GOMAXPROCS the scripts start with, when this process's environment sets it."""
    value = os.environ.get("GOMAXPROCS", "")
    return int(value) if value.isdigit() and int(value) >= 1 else None


# ---- checks ---------------------------------------------------------------------------


def exactly(*expected: str) -> Check:
    """The output is these lines, in this order, and nothing else."""

    def check(lines: list[str]) -> None:
        assert lines == list(expected)

    return check


def same_lines(*expected: str) -> Check:
    """The output is these lines in any order (each as often as listed)."""

    def check(lines: list[str]) -> None:
        assert sorted(lines) == sorted(expected)

    return check


def in_order(*expected: str) -> Check:
    """These lines appear in this order, possibly with other lines between."""

    def check(lines: list[str]) -> None:
        position = 0
        for line in expected:
            assert line in lines[position:], f"{line!r} missing after line {position}"
            position = lines.index(line, position) + 1

    return check


def first(*expected: str) -> Check:
    def check(lines: list[str]) -> None:
        assert lines[: len(expected)] == list(expected)

    return check


def last(*expected: str) -> Check:
    def check(lines: list[str]) -> None:
        assert lines[-len(expected) :] == list(expected)

    return check


def line_count(n: int) -> Check:
    def check(lines: list[str]) -> None:
        assert len(lines) == n, f"{len(lines)} lines, expected {n}"

    return check


def only(pattern: str) -> Check:
    """Every line matches `pattern`: nothing unexpected, nothing garbled."""

    def check(lines: list[str]) -> None:
        bad = [line for line in lines if not re.fullmatch(pattern, line)]
        assert not bad, f"unexpected lines: {bad}"

    return check


def holds(predicate: Callable[[list[str]], bool], what: str) -> Check:
    def check(lines: list[str]) -> None:
        assert predicate(lines), what

    return check


def numbers(pattern: str, lines: list[str]) -> list[float]:
    """Group 1 of `pattern` (a full-line regex) on each line that matches it."""
    return [float(m.group(1)) for line in lines if (m := re.fullmatch(pattern, line))]


def number_where(pattern: str, accept: Callable[[float], bool], what: str) -> Check:
    """Exactly one line matches `pattern`, and its number is acceptable."""

    def check(lines: list[str]) -> None:
        values = numbers(pattern, lines)
        assert len(values) == 1, f"expected one line matching {pattern!r}, got {values}"
        assert accept(values[0]), f"{values[0]} in {pattern!r}: expected {what}"

    return check


def each_once_in_order(*pairs: tuple[str, str]) -> Check:
    """Each line of each (before, after) pair appears once, `before` first."""

    def check(lines: list[str]) -> None:
        for before, after in pairs:
            assert lines.count(before) == 1, f"{before!r} {lines.count(before)} times"
            assert lines.count(after) == 1, f"{after!r} {lines.count(after)} times"
            assert lines.index(before) < lines.index(after), f"{after!r} before {before!r}"

    return check


def not_before(pattern: str, bounds: list[float], slack: float = 0.002) -> Check:
    """The times on the lines matching `pattern` are at least `bounds`, in order.

    A timer never fires early, so waiting for the k-th tick takes at least k
    intervals; only such lower bounds hold on a loaded machine. `slack` covers
    the rounding of the printed times.
    """

    def check(lines: list[str]) -> None:
        times = numbers(pattern, lines)
        assert len(times) == len(bounds), f"times {times}, expected {len(bounds)} of them"
        for k, (seen, bound) in enumerate(zip(times, bounds, strict=True), 1):
            assert seen >= bound - slack, f"event {k} at {seen} s, before {bound} s"

    return check


# ---- what each script must print ------------------------------------------------------


def rate_limited(lines: list[str]) -> None:
    steady = lines[lines.index("steady limiter:") + 1 : lines.index("bursty limiter:")]
    bursty = lines[lines.index("bursty limiter:") + 1 :]
    assert [line.split(" at ")[0] for line in steady + bursty] == [
        f"request {n}" for n in (1, 2, 3, 4, 5) * 2
    ]
    # Steady: request n waits for the n-th tick. Bursty: three stored tokens
    # let the first three through at once, then one request per tick.
    pattern = r"request \d at \+(\d+\.\d+) s"
    not_before(pattern, [0.05 * n for n in range(1, 6)])(steady)
    not_before(pattern, [0, 0, 0, 0.05, 0.10])(bursty)


def ticks(lines: list[str]) -> None:
    count = len(lines) - 1  # all but "Ticker stopped"
    assert count >= 1, "no tick at all"
    not_before(r"Tick at \+(\d\.\d{3}) s", [0.05 * k for k in range(1, count + 1)])(lines)


def worker_pool_jobs(lines: list[str]) -> None:
    # Which worker takes which job is up to the scheduler: drop the worker's number.
    jobs = [re.sub(r"^worker [1-3] ", "", line) for line in lines if line.startswith("worker ")]
    assert len(jobs) == 10
    each_once_in_order(*((f"started  job {j}", f"finished job {j}") for j in range(1, 6)))(jobs)


def gobyexample_expected() -> dict[str, list[Check]]:
    return {
        "gobyexample/atomic_counters.py": [exactly("ops: 50000")],
        "gobyexample/channel_buffering.py": [exactly("queued 2 of 2", "buffered", "channel")],
        "gobyexample/channel_directions.py": [exactly("passed message")],
        "gobyexample/channel_synchronization.py": [exactly("working...done")],
        "gobyexample/channels.py": [exactly("ping")],
        "gobyexample/closing_channels.py": [
            same_lines(
                *(f"sent job {j}" for j in (1, 2, 3)),
                "sent all jobs",
                *(f"received job {j}" for j in (1, 2, 3)),
                "received all jobs",
                "received more jobs: False",
            ),
            in_order("sent job 1", "sent job 2", "sent job 3", "sent all jobs"),
            in_order("received job 1", "received job 2", "received job 3", "received all jobs"),
            last("received more jobs: False"),
        ],
        "gobyexample/context.py": [
            exactly(
                "client: request with a 0.6 s deadline",
                "server: hello handler started",
                "server: hello handler ended",
                "client: got 'hello'",
                "client: request with a 0.05 s deadline",
                "server: hello handler started",
                "server: context deadline exceeded",
                "server: hello handler ended",
                "client: got 'error: context deadline exceeded'",
            )
        ],
        "gobyexample/goroutine_basics.py": [
            first("direct : 0", "direct : 1", "direct : 2"),
            in_order("goroutine : 0", "goroutine : 1", "goroutine : 2"),
            same_lines(
                *(f"{label} : {i}" for label in ("direct", "goroutine") for i in range(3)),
                "going",
                "done",
            ),
            last("done"),
        ],
        "gobyexample/mutexes.py": [exactly("{'a': 20000, 'b': 10000}")],
        "gobyexample/non_blocking_channel_operations.py": [
            exactly("no message received", "no message sent", "no activity")
        ],
        "gobyexample/range_over_channels.py": [exactly("one", "two")],
        "gobyexample/rate_limiting.py": [line_count(12), rate_limited],
        "gobyexample/select_basics.py": [
            first("received one from c1", "received two from c2"),
            # The two waits overlap: about 0.2 s in all, never less.
            number_where(r"both in about (\d\.\d) s", lambda s: s >= 0.2, "at least 0.2 s"),
            line_count(3),
        ],
        "gobyexample/stateful_goroutines.py": [
            number_where(r"readOps: (\d+)", lambda n: n > 0, "some reads"),
            number_where(r"writeOps: (\d+)", lambda n: n > 0, "some writes"),
            line_count(2),
        ],
        "gobyexample/tickers.py": [
            only(r"Tick at \+\d\.\d{3} s|Ticker stopped"),
            last("Ticker stopped"),
            ticks,
        ],
        "gobyexample/timeouts.py": [exactly("timeout 1", "result 2")],
        "gobyexample/timers.py": [exactly("Timer 1 fired", "Timer 2 stopped")],
        "gobyexample/waitgroups.py": [
            each_once_in_order(
                *((f"Worker {i} starting", f"Worker {i} done") for i in range(1, 6))
            ),
            last("all workers done"),
            line_count(11),
        ],
        "gobyexample/worker_pools.py": [
            only(
                r"worker [1-3] (started  job|finished job) [1-5]"
                r"|results: \[2, 4, 6, 8, 10\]"
                r"|5 jobs in about \d\.\d s \(one after another: 0\.5 s\)"
            ),
            worker_pool_jobs,
            holds(lambda lines: lines[-2] == "results: [2, 4, 6, 8, 10]", "results after jobs"),
            line_count(12),
        ],
    }


def seeds_expected() -> dict[str, list[Check]]:
    procs = env_gomaxprocs()

    def fetched_all(lines: list[str]) -> bool:
        fetching = sorted(line for line in lines if line.startswith("fetching "))
        return fetching == sorted(f"fetching https://example.com/{i}" for i in range(50))

    def at_most_limit(what: str) -> Check:
        pattern = rf"{what}, at most (\d+) at once \(limit 10\)"
        return number_where(pattern, lambda n: 1 <= n <= 10, "between 1 and the limit")

    def loop_capture(lines: list[str]) -> None:
        assert lines[1] == "passed as an argument:      [0, 1, 2, 3, 4]"
        assert lines[0].startswith("captured the loop variable: [")
        if procs == 1:
            # One processor: the goroutines only start once main waits, after the loop.
            assert lines[0] == "captured the loop variable: [4, 4, 4, 4, 4]"

    def lost_updates(n: float) -> bool:
        # On one processor the yield between read and write always loses updates.
        return 1 <= n < 1000 if procs == 1 else 1 <= n <= 1000

    def gomaxprocs_start(lines: list[str]) -> None:
        start = numbers(r"GOMAXPROCS: (\d+)", lines)
        assert len(start) == 1 and start[0] >= 1
        if procs is not None:
            assert start[0] == procs, "GOMAXPROCS from the environment"
        assert lines[1] == f"GOMAXPROCS set to 4 (was {int(start[0])})"

    def done_channel(lines: list[str]) -> None:
        jobs = numbers(r"worker [1-3]: processing job (\d)", lines)
        assert len(jobs) == len(set(jobs)), "a job processed twice"
        # Each worker processes jobs until its select picks the closed done channel.
        for ident in (1, 2, 3):
            mine = [line for line in lines if line.startswith(f"worker {ident}:")]
            assert mine[-1] == f"worker {ident}: shutting down"
            assert mine.count(f"worker {ident}: shutting down") == 1

    def each_worker_cancelled(lines: list[str]) -> bool:
        workers = sorted(line.split(" cancelled")[0] for line in lines if " rounds: " in line)
        return workers == ["worker 1", "worker 2", "worker 3"]

    def scraped(lines: list[str]) -> bool:
        oks = sum(line.startswith("OK ") for line in lines)
        fetched = sum(line.startswith("Fetched ") for line in lines)
        return oks == fetched == 4

    worker_lines = ((f"Worker {i}: Starting", f"Worker {i}: Done") for i in (1, 2, 3))
    return {
        "seeds/blocked_receive_leak.py": [
            exactly(
                "after leaky(): 1 goroutine left behind",
                "after fixed() and cancel(): 0 more",
                "range got 1",
                "range got 2",
                "range done: channel closed",
                "goroutines left: 1 (the one from leaky())",
            )
        ],
        "seeds/buffered_len_cap.py": [
            exactly("after three sends: 3 3", "fourth send would block: True", "1", "2", "3", "0 3")
        ],
        "seeds/channel_semaphore.py": [
            holds(fetched_all, "each of the 50 urls fetched once"),
            at_most_limit("fetched 50 urls"),
            at_most_limit("processed 30 tasks"),
            line_count(52),
        ],
        "seeds/context_timeout.py": [
            only(
                r"worker [1-3] cancelled after \d+ rounds: context deadline exceeded"
                r"|context cancelled: context canceled"
            ),
            holds(each_worker_cancelled, "each worker stops once, at the deadline"),
            last("context cancelled: context canceled"),
            line_count(4),
        ],
        "seeds/done_channel.py": [
            only(r"worker [1-3]: (shutting down|processing job [1-9])|all workers stopped"),
            done_channel,
            last("all workers stopped"),
        ],
        "seeds/first_goroutine.py": [exactly("Hello from goroutine!", "Main function")],
        "seeds/generate_range.py": [exactly("2", "3", "5", "7", "11")],
        "seeds/gomaxprocs_info.py": [
            gomaxprocs_start,
            last("GOMAXPROCS = NumCPU: True", "Goroutines: 1"),
            line_count(4),
        ],
        "seeds/goroutine_count.py": [
            exactly(
                "Start goroutines: 1",
                "Running goroutines: 11",
                "End goroutines: 1",
                "goroutine 1 [running]:",
            )
        ],
        "seeds/goroutine_leak.py": [
            first(
                "Goroutines with 10 leaky workers: 11",
                "Goroutines with 10 stoppable workers too: 21",
                "Main: Canceling workers",
            ),
            same_lines(
                "Goroutines with 10 leaky workers: 11",
                "Goroutines with 10 stoppable workers too: 21",
                "Main: Canceling workers",
                *(f"Worker {i}: Stopping" for i in range(10)),
                "Goroutines after cancel (the leaky ones remain): 11",
                "Main: Exiting",
            ),
            last("Goroutines after cancel (the leaky ones remain): 11", "Main: Exiting"),
        ],
        "seeds/goroutine_lifecycle.py": [
            first("Main: Starting"),
            each_once_in_order(*worker_lines),
            last("Main: Exiting"),
            line_count(8),
        ],
        "seeds/io_bound_fetch.py": [
            only(
                r"Fetched https://\S+ \(\d+ bytes\) in \d\.\d\d s"
                r"|Total time: \d\.\d\d s \(one after another: 0\.45 s\)"
            ),
            # The three waits overlap: the total is about the longest one, 0.2 s.
            number_where(r"Total time: (\d\.\d\d) s .*", lambda s: 0.2 <= s < 0.45, "< 0.45"),
            line_count(4),
        ],
        "seeds/loop_variable_capture.py": [line_count(2), loop_capture],
        "seeds/main_does_not_wait.py": [
            first("-- main does not wait:", "hello there"),
            in_order(
                "-- main does not wait:",
                "hello there",
                "last line of main",
                "-- main waits with a WaitGroup:",
                "hello there",
                "function 2",
                "last line of main",
            ),
            only(
                r"-- main (does not wait|waits with a WaitGroup):|hello there|function 2"
                r"|last line of main"
            ),
            last("last line of main"),
            # The first run may or may not get to run f2: on one processor it
            # never does, on two it sometimes does. The second run always does.
            holds(lambda lines: 1 <= lines.count("function 2") <= 2, "f2 ran once or twice"),
            *([line_count(7)] if procs == 1 else []),
        ],
        "seeds/many_goroutines.py": [
            first("All 10,000 goroutines completed!", "all done"),
            only(r"All 10,000 goroutines completed!|all done|110,000 goroutines in \d+\.\d\d s"),
            line_count(3),
        ],
        "seeds/pipeline_squares.py": [exactly("16", "81", "256", "first of a longer pipeline: 25")],
        "seeds/producer_consumer.py": [exactly(*(f"received: {i}" for i in range(5)))],
        "seeds/race_condition.py": [
            number_where(
                r"Counter without synchronization: (\d+) \(expected 1000\)",
                lost_updates,
                "lost updates",
            ),
            last(
                "Counter with a mutex: 1000",
                "Counter with an atomic: 1000",
                "Counter with a channel: 1000",
            ),
            line_count(4),
        ],
        "seeds/safe_counter.py": [
            exactly("1000", "cache hits: ['name 0', 'name 2', 'name 4', 'name 6', 'name 8']")
        ],
        "seeds/say_background.py": [
            only(r"(fore|back)ground [0-2]"),
            in_order("foreground 0", "foreground 1", "foreground 2"),
            in_order("background 0", "background 1"),
        ],
        "seeds/select_first_ready.py": [exactly("from ch2: two", "from ch1: one")],
        "seeds/status_codes.py": [
            same_lines(
                "https://example.com -> 200",
                "https://httpbin.org/get -> 200",
                "https://httpbin.org/status/404 -> 404",
                "error: Get 'https://unreachable.invalid': no such host",
            )
        ],
        "seeds/try_receive_timeout.py": [
            exactly(
                "empty channel: (0, False)",
                "after a send: (7, True)",
                "https://fast.example -> response body",
                "https://slow.example -> error: request to https://slow.example timed out",
            )
        ],
        "seeds/two_anonymous_goroutines.py": [
            same_lines(
                "Executing 1st goroutine",
                "Executing 2nd goroutine",
                "All goroutines finished executing",
            ),
            last("All goroutines finished executing"),
        ],
        "seeds/unbuffered_hello.py": [exactly("hello from goroutine")],
        "seeds/url_checker.py": [
            same_lines(
                "No. of Goroutines: 4",
                "Status Code: 200  Writing response Body to golang.org.txt",
                "Status Code: 200  Writing response Body to www.python.org.txt",
                "https://example.invalid is DOWN!",
                "saved: ['golang.org.txt', 'www.python.org.txt']",
            ),
            first("No. of Goroutines: 4"),
            last("saved: ['golang.org.txt', 'www.python.org.txt']"),
        ],
        "seeds/waitgroup_fan_out.py": [
            same_lines(
                *(f"item {i} processed" for i in range(1, 6)),
                "all items processed",
                "sum of squares: 55",
            ),
            last("all items processed", "sum of squares: 55"),
        ],
        "seeds/waitgroup_patterns.py": [
            each_once_in_order(*worker_lines),
            last(
                "All workers completed",
                "pattern 1: finished [0, 1, 2, 3, 4]",
                "pattern 2: workers [0, 1, 2, 3, 4]",
            ),
            line_count(9),
        ],
        "seeds/web_scraper.py": [
            only(
                r"Fetched https://\S+ in \d+ ms"
                r"|OK   https://\S+: 200 \(\d+ bytes\)"
                r"|FAIL https://reddit\.invalid: .*no such host"
                r"|4 of 5 pages fetched"
            ),
            holds(scraped, "4 pages fetched and reported"),
            last("4 of 5 pages fetched"),
            line_count(10),
        ],
        "seeds/worker_pool_total.py": [exactly("total: 2870")],
    }


EXPECTED = {**gobyexample_expected(), **seeds_expected()}


# ---- the tests ------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_output(script: str) -> None:
    checks = EXPECTED.get(script)
    if checks is None:
        pytest.fail(f"no expected output for examples/{script}: add an entry to EXPECTED")
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=EXAMPLES.parent,
    )
    report = f"--- stdout of {script}:\n{proc.stdout}--- stderr:\n{proc.stderr}"
    assert proc.returncode == 0, report
    assert proc.stderr == "", report
    lines = proc.stdout.splitlines()
    for check in checks:
        try:
            check(lines)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{report}") from None


# The examples that show a data race on purpose: the race detector must find it.
RACY = {"seeds/race_condition.py"}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("script", [*SCRIPTS, "crawl.py", "pipeline.py"])
def test_example_under_the_race_detector(script: str) -> None:
    # Every example is race-free (Go's memory model) but the ones in RACY;
    # its output is checked above, so here only what the detector says.
    proc = subprocess.run(
        [sys.executable, "-m", "goroutines", "run", "--race", str(EXAMPLES / script)],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=EXAMPLES.parent,
        stdin=subprocess.DEVNULL,
    )
    if script in RACY:
        assert proc.returncode == 66, proc.stderr
        assert "WARNING: DATA RACE" in proc.stderr
    else:
        assert (proc.returncode, proc.stderr) == (0, "")


@pytest.mark.timeout(60)
def test_every_expectation_has_a_script() -> None:
    assert sorted(EXPECTED) == SCRIPTS


@pytest.mark.timeout(60)
def test_every_go_by_example_chapter_is_ported() -> None:
    ported = {path.name for path in (EXAMPLES / "gobyexample").glob("*.py")}
    assert sorted(ported) == sorted(CHAPTERS.values())
    for slug, name in CHAPTERS.items():
        docstring = ast.get_docstring(ast.parse((EXAMPLES / "gobyexample" / name).read_text()))
        assert docstring is not None and f"https://gobyexample.com/{slug})" in docstring, name


@pytest.mark.timeout(60)
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_conventions(script: str) -> None:
    """A docstring saying what it ports and how to run it, goroutines.run(main)
    under the __main__ guard, and goroutines.time instead of the stdlib's."""
    source = (EXAMPLES / script).read_text()
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree)
    assert docstring is not None
    assert f"Run it with:  python examples/{script}" in docstring
    origin = "Go by Example: " if script.startswith("gobyexample/") else "Seed "
    assert docstring.startswith(origin)
    assert 'if __name__ == "__main__":' in source
    assert "goroutines.run(main)" in source.split('if __name__ == "__main__":')[1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            assert "time" not in [alias.name for alias in node.names], "use goroutines.time"
        elif isinstance(node, ast.ImportFrom):
            assert node.module != "time", "use goroutines.time"
