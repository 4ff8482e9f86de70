"""goroutines.testing (verify_none, LeakError, ignore_current) and the pytest plugin."""

from __future__ import annotations

import json
import threading
from xml.etree import ElementTree

import pytest
from conftest import PATIENCE, plain_terminal, run_python, wait_until_blocked

import goroutines
import goroutines.time as gtime
from goroutines import Chan, blocking, go, run, runtime
from goroutines.testing import LeakError, ignore_current, verify_none

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.timeout(60)

# Short enough to keep the failing checks fast; the leaks they look for stay.
QUICK = 0.05


@pytest.fixture(autouse=True)
def clean_slate() -> None:
    """Each test starts with nothing left behind by earlier ones, also when the
    plugin that would have forgotten it is off (``-p no:goroutines``)."""
    ignore_current()


def background_goroutines_blocked(count: int, reason: str) -> None:
    """Wait (from the test's plain thread) until the background runtime has
    ``count`` goroutines in ``reason``; ``runtime.stack()`` describes it here."""
    done: Chan[None] = Chan()
    go(lambda: (wait_until_blocked(count, reason), done.send(None)))
    done.recv()


def test_a_clean_state_passes() -> None:
    verify_none()


def test_a_blocked_background_goroutine_is_reported_with_its_dump() -> None:
    ch: Chan[int] = Chan()
    go(ch.recv)
    background_goroutines_blocked(1, "chan receive")
    with pytest.raises(LeakError) as info:
        verify_none(timeout=QUICK)
    message = str(info.value)
    assert message.startswith("leaked: 1 goroutine\n")
    assert "on the background runtime" in message
    assert "[chan receive]:" in message
    assert "created by test_testing.test_a_blocked_background_goroutine" in message
    ch.close()
    verify_none()  # reported once: forgotten, and it finishes anyway


def test_an_abandoned_goroutine_is_reported_then_forgotten() -> None:
    def blocked(ch: Chan[int]) -> None:
        ch.recv()

    def main() -> None:
        ch: Chan[int] = Chan()
        go(blocked, ch)
        wait_until_blocked(1, "chan receive")

    run(main)
    with pytest.raises(LeakError) as info:
        verify_none()  # no waiting: an abandoned goroutine never changes
    message = str(info.value)
    assert "abandoned by a run that returned" in message
    assert "goroutine 2 [chan receive]:" in message
    assert (
        "test_testing.test_an_abandoned_goroutine_is_reported_then_forgotten.<locals>.blocked"
        in (message)
    )
    verify_none()


def test_a_pending_background_timer_is_reported() -> None:
    timer = gtime.after_func(PATIENCE * 6, lambda: None)
    try:
        with pytest.raises(LeakError) as info:
            verify_none(timeout=QUICK)
    finally:
        timer.stop()
    message = str(info.value)
    assert message.startswith("leaked: 1 pending timer\n")
    assert "timers pending on the background runtime:\n  due in " in message
    assert "goroutines.time.Timer._fire" in message
    verify_none()


def test_a_stopped_timer_is_not_a_leak() -> None:
    gtime.Timer(PATIENCE * 6).stop()
    verify_none()


def test_a_busy_blocking_helper_is_reported() -> None:
    release = threading.Event()
    go(blocking, release.wait, PATIENCE)
    background_goroutines_blocked(1, "blocking call")
    try:
        with pytest.raises(LeakError) as info:
            verify_none(timeout=QUICK)
    finally:
        release.set()
    message = str(info.value)
    assert message.startswith("leaked: 1 goroutine, 1 blocking call\n")
    assert "[blocking call]:" in message
    assert "goroutines.blocking calls still queued or running on helper threads:" in message
    assert "threading.Event.wait for goroutine" in message


def test_goroutines_that_are_finishing_are_not_reported() -> None:
    # The grace period: verify_none looks again until they are gone.
    for _ in range(10):
        go(gtime.sleep, 0.02)
    verify_none()


def test_inside_a_run_it_waits_for_the_runs_goroutines_to_finish() -> None:
    def main() -> int:
        done: Chan[None] = Chan(10)
        for _ in range(10):
            go(lambda: ([runtime.gosched() for _ in range(20)], done.send(None)))
        verify_none()
        return len(done)

    assert run(main) == 10


@pytest.mark.parametrize("procs", [1, 2])
def test_inside_a_run_it_reports_the_runs_blocked_goroutines_but_not_main(procs: int) -> None:
    def main() -> str:
        ch: Chan[int] = Chan()
        go(ch.recv)
        wait_until_blocked(1, "chan receive")
        with pytest.raises(LeakError) as info:
            verify_none(timeout=QUICK)
        ch.close()
        return str(info.value)

    message = run(main, gomaxprocs=procs)
    assert "alive in this run (other than the caller and main)" in message
    assert "goroutine 2 [chan receive]:" in message
    assert "goroutine 1 " not in message
    verify_none()  # reported once: the abandoned goroutine (if any) is not reported again


def test_inside_a_run_it_checks_that_run_only() -> None:
    ch: Chan[int] = Chan()
    go(ch.recv)
    background_goroutines_blocked(1, "chan receive")
    run(lambda: go(Chan().recv))  # abandons one
    run(verify_none)  # neither is this run's
    with pytest.raises(LeakError) as info:
        verify_none(timeout=QUICK)  # the check after the run sees both
    ch.close()
    assert str(info.value).startswith("leaked: 2 goroutines\n")


def test_ignore_current_forgets_what_is_left_without_reporting() -> None:
    ch: Chan[int] = Chan()
    go(ch.recv)
    background_goroutines_blocked(1, "chan receive")
    run(lambda: go(Chan().recv))
    ignore_current()
    verify_none()
    ch.close()


def test_leak_error_is_an_assertion_error() -> None:
    assert issubclass(LeakError, AssertionError)
    assert goroutines.testing.LeakError is LeakError


# ---- forgetting abandoned goroutines runs none of their code ----------------------


@pytest.mark.parametrize("procs", ["1", "2"])
def test_forgetting_abandoned_goroutines_runs_none_of_their_code(procs: str) -> None:
    # With 2 processors the two goroutines meet on a barrier, so one of them is
    # on the worker thread that has ended once run returned: greenlet cannot
    # run a greenlet of another thread, and must not crash freeing it. The
    # other is on the calling thread, where dropping it must not resume it.
    code = """
        import gc, sys, threading
        import goroutines
        from goroutines.testing import LeakError, verify_none

        procs = int(sys.argv[1])
        barrier = threading.Barrier(procs, timeout=10)
        ran = []

        def blocked(ready):
            barrier.wait()
            try:
                ready.send(threading.get_ident())
                goroutines.Chan().recv()
            finally:
                ran.append("finally")

        def main():
            ready = goroutines.Chan()
            for _ in range(procs):
                goroutines.go(blocked, ready)
            return {ready.recv() for _ in range(procs)}

        threads = goroutines.run(main, gomaxprocs=procs)
        assert len(threads) == procs, threads
        try:
            verify_none()
        except LeakError as exc:
            print(str(exc).splitlines()[0])
        for _ in range(3):
            gc.collect()
        threading.Thread(target=gc.collect).start()
        verify_none()
        print("ran:", ran)
    """
    returncode, out, err = run_python(
        code.replace("sys.argv[1]", repr(procs)), env={"GOMAXPROCS": procs}
    )
    assert returncode == 0, err
    assert out == f"leaked: {procs} goroutine{'s' if procs == '2' else ''}\nran: []\n", out


# ---- the pytest plugin ------------------------------------------------------------------
#
# Each test runs pytest on a small file in a fresh interpreter (the leak check's
# state is the process's), bounded well inside this test's own timeout.

LEAKY = """
    import pytest
    import goroutines

    def leave_one_blocked():
        def main():
            goroutines.go(goroutines.Chan().recv)
            goroutines.runtime.gosched()
        goroutines.run(main)

    def test_leaks():
        leave_one_blocked()

    @pytest.mark.allow_goroutine_leaks
    def test_leaks_on_purpose():
        leave_one_blocked()

    def test_clean():
        goroutines.testing.verify_none(timeout=0.01)
"""
LEAKS_AND_CLEAN = ("-k", "test_leaks and not on_purpose or test_clean")

# A conftest logging every report as xdist's controller sees it: serialized by
# the worker, sent as JSON, rebuilt. One line per report, in the order logged.
REPORT_LOG = """
    import json

    def pytest_configure(config):
        global CONFIG
        CONFIG = config

    def pytest_runtest_logreport(report):
        data = CONFIG.hook.pytest_report_to_serializable(config=CONFIG, report=report)
        data = json.loads(json.dumps(data))
        copy = CONFIG.hook.pytest_report_from_serializable(config=CONFIG, data=data)
        line = [copy.head_line, copy.when, copy.outcome, copy.longreprtext]
        with open("reports.jsonl", "a") as log:
            print(json.dumps(line), file=log)
"""


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytest's ``pytester``, its output the same on every machine."""
    plain_terminal(monkeypatch)
    return pytester


def runpytest(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*args, timeout=PATIENCE * 4)


def logged_reports(pytester: pytest.Pytester) -> list[list[str]]:
    """[test name, phase, outcome, failure text] of each report REPORT_LOG saw."""
    lines = (pytester.path / "reports.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_the_plugin_fails_a_leaking_test_with_the_dump(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(REPORT_LOG)
    pytester.makepyfile(LEAKY)
    result = runpytest(pytester, *LEAKS_AND_CLEAN)
    result.assert_outcomes(failed=1, passed=1)  # and no errors
    result.stdout.fnmatch_lines(
        ["*= FAILURES =*", "*_ test_leaks _*", "E   *LeakError: leaked: 1 goroutine"],
        consecutive=True,
    )
    result.stdout.fnmatch_lines(
        [
            "*goroutines abandoned by a run that returned*",
            "*goroutine 2 [[]chan receive[]]:*",
            "*allow_goroutine_leaks*",
            "*= short test summary info =*",
            "FAILED *::test_leaks - *LeakError: leaked: 1 goroutine*",
        ]
    )
    result.stdout.no_fnmatch_line("*ERROR*")
    reports = logged_reports(pytester)
    assert [report[:3] for report in reports] == [
        ["test_leaks", "setup", "passed"],
        ["test_leaks", "call", "failed"],
        ["test_leaks", "teardown", "passed"],
        ["test_clean", "setup", "passed"],
        ["test_clean", "call", "passed"],
        ["test_clean", "teardown", "passed"],
    ]
    failure = reports[1][3]
    assert "LeakError: leaked: 1 goroutine\n" in failure
    assert "goroutine 2 [chan receive]:" in failure
    assert "@pytest.mark.allow_goroutine_leaks if it leaks on purpose" in failure


def test_the_plugin_checks_after_the_fixtures_are_torn_down(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import goroutines

        @pytest.fixture
        def server():
            stop = goroutines.Chan()
            goroutines.go(stop.recv)
            yield
            stop.close()

        @pytest.fixture
        def leaky_server():
            goroutines.go(goroutines.Chan().recv)

        def test_uses_a_server(server):
            pass

        def test_uses_a_leaky_server(leaky_server):
            pass

        def test_next():
            goroutines.testing.verify_none(timeout=0.01)
        """
    )
    result = runpytest(pytester)
    result.assert_outcomes(failed=1, passed=2)
    result.stdout.fnmatch_lines(["FAILED *::test_uses_a_leaky_server - *LeakError*"])


def test_the_plugin_stops_a_session_at_the_leak_under_x(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LEAKY)
    result = runpytest(pytester, "-x")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*stopping after 1 failures*"])


def test_the_plugin_failure_is_rerun_by_last_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LEAKY)
    runpytest(pytester).assert_outcomes(failed=1, passed=2)
    result = runpytest(pytester, "--lf")
    result.assert_outcomes(failed=1)  # only test_leaks ran
    result.stdout.fnmatch_lines(["*rerun previous 1 failure*"])


def test_the_plugin_failure_is_a_junitxml_failure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LEAKY)
    result = runpytest(pytester, *LEAKS_AND_CLEAN, "--junitxml=junit.xml")
    result.assert_outcomes(failed=1, passed=1)
    suite = ElementTree.parse(pytester.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors")) == ("1", "0")
    assert suite.find(".//error") is None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases["test_clean"]) == []
    failure = cases["test_leaks"].find("failure")
    assert failure is not None
    assert "LeakError: leaked: 1 goroutine" in failure.get("message", "")
    assert "goroutine 2 [chan receive]:" in (failure.text or "")


def test_the_plugin_lets_a_marked_test_leak_and_forgets_it(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LEAKY)
    result = runpytest(pytester, "-k", "on_purpose or test_clean")
    result.assert_outcomes(passed=2)


def test_the_plugin_reports_a_background_leak_once(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import goroutines

        def test_leaks_in_the_background():
            goroutines.go(goroutines.Chan().recv)

        def test_next():
            pass
        """
    )
    result = runpytest(pytester)
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["FAILED *::test_leaks_in_the_background*"])


def test_the_plugin_skips_the_check_of_a_failing_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import goroutines

        def test_fails():
            goroutines.go(goroutines.Chan().recv)
            assert False, "the test's own failure"

        @pytest.mark.xfail(strict=True)
        def test_xfails():
            goroutines.go(goroutines.Chan().recv)
            assert False

        def test_next():
            goroutines.testing.verify_none(timeout=0.01)
        """
    )
    result = runpytest(pytester)
    result.assert_outcomes(failed=1, xfailed=1, passed=1)
    result.stdout.fnmatch_lines(["FAILED *::test_fails - AssertionError: the test's own failure*"])
    result.stdout.no_fnmatch_line("*LeakError*")


def test_the_plugin_can_be_turned_off(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(LEAKY)
    result = runpytest(pytester, "-p", "no:goroutines", "-k", "test_leaks")
    result.assert_outcomes(passed=2)


def test_the_plugin_falls_back_to_a_teardown_error_under_another_protocol(
    pytester: pytest.Pytester,
) -> None:
    # A conftest that runs the protocol itself answers before the plugin does,
    # so the call report is logged as passed before the check: the leak can
    # only be reported from teardown, still in the leaking test's report.
    pytester.makeconftest(
        """
        import pytest
        from _pytest.runner import runtestprotocol

        @pytest.hookimpl(tryfirst=True)
        def pytest_runtest_protocol(item, nextitem):
            item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
            runtestprotocol(item, nextitem=nextitem)
            item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
            return True
        """
    )
    pytester.makepyfile(LEAKY)
    result = runpytest(pytester, *LEAKS_AND_CLEAN)
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_leaks*", "*LeakError: leaked: 1 goroutine", "*goroutine 2 *"]
    )
