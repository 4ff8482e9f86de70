"""The ``goroutines`` command line: ``goroutines run [options] SCRIPT [ARGS...]``.

Each test writes a small program to ``tmp_path`` and runs the command in a
fresh interpreter, through ``python -m goroutines`` and, where the entry point
itself matters, the installed ``goroutines`` console script too.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from conftest import parse_stack

import goroutines
from goroutines import _cli

pytestmark = pytest.mark.timeout(60)

TIMEOUT = 30.0

_SCRIPT_NAME = "goroutines.exe" if os.name == "nt" else "goroutines"
CONSOLE_SCRIPT = Path(sys.executable).with_name(_SCRIPT_NAME)

PYTHON_M = (sys.executable, "-m", "goroutines")
ENTRY_POINTS = {"python-m": PYTHON_M, "console-script": (str(CONSOLE_SCRIPT),)}

GOMAXPROCS_SCRIPT = "import goroutines\nprint(goroutines.runtime.gomaxprocs())\n"
DEADLOCK_HEADER = "fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1 ["


@pytest.fixture(params=sorted(ENTRY_POINTS))
def entry(request: pytest.FixtureRequest) -> tuple[str, ...]:
    """Both ways to start the command."""
    if request.param == "console-script" and not CONSOLE_SCRIPT.exists():
        pytest.skip(f"no console script at {CONSOLE_SCRIPT} (package not installed?)")
    return ENTRY_POINTS[request.param]


def goroutines_cmd(
    *args: str | Path,
    entry: tuple[str, ...] = PYTHON_M,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the command with ``args``; ``env`` entries are added to this process's."""
    return subprocess.run(
        [*entry, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


def write(path: Path, code: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(code))
    return path


# ---- running a script --------------------------------------------------------------------


def test_script_runs_and_exits_0(tmp_path: Path, entry: tuple[str, ...]) -> None:
    script = write(tmp_path / "hello.py", 'print("hello")\n')
    proc = goroutines_cmd("run", script, entry=entry)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "hello\n", "")


def test_script_top_level_is_the_main_goroutine(tmp_path: Path) -> None:
    # Channels, go, select and sleep at the top level, with no run() in sight.
    script = write(
        tmp_path / "prog.py",
        """\
        import goroutines
        from goroutines import Chan, go, runtime, select, time

        results = Chan()
        for i in range(3):
            go(lambda i=i: results.send(i * i))
        print(sorted(results.recv() for _ in range(3)))
        time.sleep(0.01)
        index, _ = select(Chan().recv, time.after(0.01).recv)
        print("timeout case", index)
        print(runtime.stack(), end="")
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:2] == ["[0, 1, 4]", "timeout case 1"]
    dump = "\n".join(lines[2:]) + "\n"
    reason, block = parse_stack(dump)[1]
    assert reason == "running"
    # The dump starts at the script's own code: no runpy or CLI frames.
    assert block.splitlines()[1:] == ["__main__.<module>(...)", f"\t{script}:11"]


def test_a_script_that_calls_run_itself_works_unchanged(tmp_path: Path) -> None:
    """Most scripts end in goroutines.run(main): under the CLI that call runs
    main in the main goroutine already running (no nested-run error), and
    returns its result; its gomaxprocs applies."""
    script = write(
        tmp_path / "prog.py",
        """\
        import goroutines
        from goroutines import Chan, go, runtime
        from goroutines.testing import verify_none


        def main(n):
            results = Chan()
            go(lambda: results.send(n * 2))
            doubled = results.recv()
            verify_none()  # the sender has finished: one goroutine is left after run
            return doubled, runtime.gomaxprocs()


        print(goroutines.run(main, 21, gomaxprocs=2))
        print(runtime.num_goroutine())
        """,
    )
    proc = goroutines_cmd("run", "--gomaxprocs", "1", script)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "(42, 2)\n1\n", "")


def test_run_from_any_goroutine_but_the_top_level_is_still_a_nested_run(tmp_path: Path) -> None:
    script = write(
        tmp_path / "prog.py",
        """\
        import goroutines
        from goroutines import Chan, go

        errors = Chan(1)


        def nested():
            try:
                goroutines.run(print, "never")
            except RuntimeError as exc:
                errors.send(str(exc))


        go(nested)
        print(errors.recv())
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "goroutines.run: a run is already active in this process\n"


def test_patch_is_applied_before_the_script_runs(tmp_path: Path) -> None:
    # time.sleep parks only its goroutine: the one worker goes on running main.
    script = write(
        tmp_path / "prog.py",
        """\
        import time
        from goroutines import go, runtime
        go(time.sleep, 5)
        for _ in range(1000):
            runtime.gosched()
            if "goroutine 2 [sleep]:" in runtime.stack():
                print("parked")
                break
        """,
    )
    proc = goroutines_cmd("run", "--gomaxprocs", "1", script)
    assert (proc.returncode, proc.stdout) == (0, "parked\n"), proc.stderr


def test_script_runs_as_dunder_main(tmp_path: Path) -> None:
    script = write(
        tmp_path / "prog.py",
        """\
        import sys
        import __main__
        marker = object()
        print(__name__, __file__, __main__.marker is marker, sys.path[0], __spec__)
        if __name__ == "__main__":
            print("main guard")
        """,
    )
    proc = goroutines_cmd("run", "prog.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # As `python prog.py`: __file__ absolute, the script's directory first on sys.path.
    assert proc.stdout == f"__main__ {script} True {tmp_path} None\nmain guard\n"


def test_arguments_after_script_are_passed_untouched(
    tmp_path: Path, entry: tuple[str, ...]
) -> None:
    script = write(tmp_path / "args.py", "import sys\nprint(sys.argv)\n")
    args = ["a", "--flag", "-h", "--gomaxprocs", "3", "--race", "--", "-m", "x"]
    proc = goroutines_cmd("run", script, *args, entry=entry)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{[str(script), *args]}\n"


def test_double_dash_ends_runs_options(tmp_path: Path) -> None:
    script = write(tmp_path / "args.py", "import sys\nprint(sys.argv)\n")
    proc = goroutines_cmd("run", "--gomaxprocs", "1", "--", script, "--x")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{[str(script), '--x']}\n"


@pytest.mark.parametrize(("args", "procs"), [(["--gomaxprocs", "3"], 3), (["--gomaxprocs=2"], 2)])
def test_gomaxprocs_option_sets_the_workers(tmp_path: Path, args: list[str], procs: int) -> None:
    script = write(tmp_path / "procs.py", GOMAXPROCS_SCRIPT)
    proc = goroutines_cmd("run", *args, script, env={"GOMAXPROCS": "1"})
    assert (proc.returncode, proc.stdout) == (0, f"{procs}\n"), proc.stderr


def test_gomaxprocs_defaults_to_the_environment_variable(tmp_path: Path) -> None:
    script = write(tmp_path / "procs.py", GOMAXPROCS_SCRIPT)
    proc = goroutines_cmd("run", script, env={"GOMAXPROCS": "3"})
    assert (proc.returncode, proc.stdout) == (0, "3\n"), proc.stderr


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_bad_gomaxprocs_is_a_usage_error(tmp_path: Path, value: str) -> None:
    script = write(tmp_path / "prog.py", 'print("ran")\n')
    proc = goroutines_cmd("run", "--gomaxprocs", value, script)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "usage:" in proc.stderr
    assert f"argument --gomaxprocs: N must be an integer >= 1, not {value!r}" in proc.stderr


# ---- exit status -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "stderr"),
    [
        ("sys.exit()", 0, ""),
        ("sys.exit(0)", 0, ""),
        ("sys.exit(7)", 7, ""),
        ("raise SystemExit(3)", 3, ""),
        ("sys.exit('bye')", 1, "bye\n"),
    ],
)
def test_exit_status_is_the_scripts(
    tmp_path: Path, entry: tuple[str, ...], code: str, status: int, stderr: str
) -> None:
    script = write(tmp_path / "exit.py", f"import sys\n{code}\nprint('not reached')\n")
    proc = goroutines_cmd("run", script, entry=entry)
    assert (proc.returncode, proc.stdout, proc.stderr) == (status, "", stderr)


def test_sys_exit_in_another_goroutine_ends_the_program(tmp_path: Path) -> None:
    script = write(
        tmp_path / "exit.py",
        """\
        import sys
        from goroutines import Chan, go
        go(sys.exit, 5)
        Chan().recv()
        """,
    )
    proc = goroutines_cmd("run", script)
    assert (proc.returncode, proc.stderr) == (5, "")


def test_uncaught_exception_prints_the_traceback_and_exits_1(
    tmp_path: Path, entry: tuple[str, ...]
) -> None:
    script = write(
        tmp_path / "boom.py",
        """\
        print("before")
        def fail():
            error = ValueError("boom")
            error.add_note("a note of the script's")
            raise error
        fail()
        """,
    )
    proc = goroutines_cmd("run", script, entry=entry)
    assert (proc.returncode, proc.stdout) == (1, "before\n")
    # As Python prints it, from the script's top level on, notes included
    # (3.13 adds lines of carets under some calls: not ours to check).
    printed = "".join(line for line in proc.stderr.splitlines(True) if line.strip(" ~^\n"))
    assert printed == (
        "Traceback (most recent call last):\n"
        f'  File "{script}", line 6, in <module>\n'
        "    fail()\n"
        f'  File "{script}", line 5, in fail\n'
        "    raise error\n"
        "ValueError: boom\n"
        "a note of the script's\n"
        "raised in goroutine 1 (__main__.<module>)\n"
    )


def test_exception_in_another_goroutine_names_it(tmp_path: Path) -> None:
    script = write(
        tmp_path / "boom.py",
        """\
        from goroutines import Chan, go
        def worker():
            raise KeyError("lost")
        go(worker)
        Chan().recv()
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f'Traceback (most recent call last):\n  File "{script}", line 3')
    assert proc.stderr.endswith("KeyError: 'lost'\nraised in goroutine 2 (__main__.worker)\n")


def test_scripts_own_excepthook_is_used(tmp_path: Path) -> None:
    script = write(
        tmp_path / "hook.py",
        """\
        import sys
        sys.excepthook = lambda kind, value, tb: print("hook:", kind.__name__, file=sys.stderr)
        raise OSError("x")
        """,
    )
    proc = goroutines_cmd("run", script)
    assert (proc.returncode, proc.stderr) == (1, "hook: OSError\n")


def test_syntax_error_is_printed_without_traceback(tmp_path: Path) -> None:
    script = write(tmp_path / "bad.py", "x = (\n")
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f'  File "{script}", line 1\n')
    assert "SyntaxError: '(' was never closed" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_deadlock_prints_gos_fatal_error_and_exits_2(
    tmp_path: Path, entry: tuple[str, ...]
) -> None:
    script = write(
        tmp_path / "stuck.py",
        """\
        from goroutines import Chan, go
        requests = Chan()
        go(requests.send, 1)
        requests.recv()
        Chan().recv()
        """,
    )
    proc = goroutines_cmd("run", script, entry=entry)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr.startswith(DEADLOCK_HEADER), proc.stderr
    dump = proc.stderr.removeprefix("fatal error: all goroutines are asleep - deadlock!\n\n")
    reason, block = parse_stack(dump)[1]
    assert reason == "chan receive (leaked)"  # nobody else can reach that channel
    assert block.splitlines()[1:] == ["__main__.<module>(...)", f"\t{script}:5"]
    assert "Traceback" not in proc.stderr


def test_deadlock_dump_lists_every_goroutine(tmp_path: Path) -> None:
    script = write(
        tmp_path / "stuck.py",
        """\
        from goroutines import Chan, go
        requests = Chan()
        def producer(out):
            out.send(1)
        go(producer, requests)
        Chan().recv()
        """,
    )
    proc = goroutines_cmd("run", script)
    assert proc.returncode == 2
    stacks = parse_stack(proc.stderr)
    # A module global can still be reached (by a plain thread, say); a channel
    # that only a blocked goroutine holds cannot: that goroutine is leaked.
    assert {gid: reason for gid, (reason, _) in stacks.items()} == {
        1: "chan receive (leaked)",
        2: "chan send",
    }
    assert re.search(
        rf"^created by __main__\.<module> in goroutine 1\n\t{re.escape(str(script))}:5$",
        stacks[2][1],
        re.MULTILINE,
    )


def test_keyboard_interrupt_exits_130_without_traceback(tmp_path: Path) -> None:
    script = write(tmp_path / "intr.py", "raise KeyboardInterrupt\n")
    proc = goroutines_cmd("run", script)
    assert (proc.returncode, proc.stderr) == (130, "goroutines: interrupted\n")


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
@pytest.mark.parametrize("procs", ["1", "2"])
def test_sigint_exits_130(tmp_path: Path, procs: str) -> None:
    script = write(
        tmp_path / "sleepy.py",
        """\
        import signal
        from goroutines import go, time
        # A child of a process that ignores SIGINT inherits that: undo it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        go(time.sleep, 60)
        print("ready", flush=True)
        time.sleep(60)
        """,
    )
    command = [*PYTHON_M, "run", "--gomaxprocs", procs, str(script)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert (proc.returncode, err) == (130, "goroutines: interrupted\n")


# ---- refusals and usage errors --------------------------------------------------------------


RACY = """\
import sys
import goroutines
from goroutines import sync

counter = 0


def inc(wg):
    global counter
    counter += 1
    wg.done()


wg = sync.WaitGroup()
for _ in range(3):
    wg.add(1)
    goroutines.go(inc, wg)
wg.wait()
print(counter)
sys.exit(int(sys.argv[1]))
"""


@pytest.mark.parametrize(("status", "expected"), [(0, 66), (3, 3)])
def test_race_reports_and_makes_a_clean_exit_66(tmp_path: Path, status: int, expected: int) -> None:
    # As Go's race runtime: the report on stderr, and an exit status that
    # would have been 0 becomes 66; any other stays the program's.
    script = write(tmp_path / "prog.py", RACY)
    proc = goroutines_cmd("run", "--race", script, str(status), cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (expected, "3\n"), proc.stderr
    assert proc.stderr.count("WARNING: DATA RACE") == 1, proc.stderr
    assert "Write at global 'counter' of module __main__ by goroutine" in proc.stderr
    assert f"      {script}:10\n" in proc.stderr
    assert proc.stderr.endswith("Found 1 data race(s)\n")


def test_race_free_program_under_race_exits_0_silently(tmp_path: Path) -> None:
    script = write(
        tmp_path / "prog.py",
        RACY.replace("    counter += 1", "    with mu:\n        counter += 1").replace(
            "wg = sync.WaitGroup()", "mu = sync.Mutex()\nwg = sync.WaitGroup()"
        ),
    )
    proc = goroutines_cmd("run", "--race", script, "0", cwd=tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "3\n", "")


def test_missing_script(tmp_path: Path, entry: tuple[str, ...]) -> None:
    proc = goroutines_cmd("run", "missing.py", "arg", entry=entry, cwd=tmp_path)
    path = tmp_path / "missing.py"
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == (
        f"goroutines: can't open file '{path}': [Errno 2] No such file or directory\n"
    )


def test_help(entry: tuple[str, ...]) -> None:
    proc = goroutines_cmd("--help", entry=entry)
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: ")
    assert "run a Python script with its top level as the main goroutine" in proc.stdout


def test_run_help() -> None:
    proc = goroutines_cmd("run", "--help")
    assert proc.returncode == 0
    usage = "usage: python -m goroutines run [-h] [--race] [--trace FILE] [--gomaxprocs N]"
    assert proc.stdout.startswith(usage)
    for word in ("SCRIPT", "ARGS", "-m MODULE", "exit status", "deadlock", "66"):
        assert word in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "invalid choice: 'bogus'"),
        ([], "the following arguments are required: COMMAND"),
        (["run"], "the following arguments are required: SCRIPT (or -m MODULE)"),
        (["run", "--bogus", "x.py"], "unrecognized arguments: --bogus"),
        (["run", "-m"], "argument -m: expected one argument"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    proc = goroutines_cmd(*args)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: ")
    assert message in proc.stderr


# ---- -m MODULE and directories --------------------------------------------------------------


def test_run_module(tmp_path: Path) -> None:
    module = write(
        tmp_path / "pkg" / "tool.py",
        """\
        import sys
        from goroutines import Chan, go, runtime
        from goroutines.testing import verify_none
        ch = Chan()
        go(ch.send, "from a goroutine")
        print(ch.recv(), __name__, __package__, sys.argv, sys.path[0])
        verify_none()  # the sender has finished: the dump shows the top level only
        print(runtime.stack(), end="")
        """,
    )
    (tmp_path / "pkg" / "__init__.py").touch()
    proc = goroutines_cmd("run", "-m", "pkg.tool", "--help", "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, dump = proc.stdout.split("\n", 1)
    argv = [str(module), "--help", "x"]
    assert first == f"from a goroutine __main__ pkg {argv} {tmp_path}"
    _, block = parse_stack(dump)[1]
    assert block.splitlines()[1:] == ["__main__.<module>(...)", f"\t{module}:8"]


def test_run_package_main(tmp_path: Path) -> None:
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "__main__.py", "import sys\nprint(__name__, sys.argv[1:])\n")
    proc = goroutines_cmd("run", "-mapp", "a", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, "__main__ ['a']\n"), proc.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nosuchmodule", "goroutines: No module named nosuchmodule\n"),
        (
            "nosuchpackage.sub",
            "goroutines: Error while finding module specification for 'nosuchpackage.sub' "
            "(ModuleNotFoundError: No module named 'nosuchpackage')\n",
        ),
    ],
)
def test_run_missing_module(tmp_path: Path, name: str, message: str) -> None:
    proc = goroutines_cmd("run", "-m", name, cwd=tmp_path)
    assert (proc.returncode, proc.stderr) == (1, message)


def test_exception_in_module_starts_traceback_at_the_module(tmp_path: Path) -> None:
    module = write(tmp_path / "failing.py", "1 / 0\n")
    proc = goroutines_cmd("run", "-m", "failing", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f'Traceback (most recent call last):\n  File "{module}", line 1')


def test_run_directory_with_main(tmp_path: Path) -> None:
    main = write(tmp_path / "app" / "__main__.py", "import sys\nprint(__file__, sys.argv)\n")
    proc = goroutines_cmd("run", "app", "x", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, f"{main} {['app', 'x']}\n"), proc.stderr


def test_run_zip_file_with_main(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "app.zip", "w") as archive:
        archive.writestr("__main__.py", "import sys\nprint(__file__, sys.argv, sys.path[0])\n")
    proc = goroutines_cmd("run", "app.zip", "x", cwd=tmp_path)
    app = tmp_path / "app.zip"
    expected = f"{app / '__main__.py'} {['app.zip', 'x']} {app}\n"
    assert (proc.returncode, proc.stdout) == (0, expected), proc.stderr


def test_run_directory_without_main(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = goroutines_cmd("run", "empty", cwd=tmp_path)
    path = tmp_path / "empty"
    assert (proc.returncode, proc.stderr) == (
        1,
        f"goroutines: can't find '__main__' module in '{path}'\n",
    )


# ---- in-process ------------------------------------------------------------------------------


def test_main_applies_patch_and_restores_sys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # patch() is replaced here so that this test process stays unpatched.
    calls: list[str] = []
    monkeypatch.setattr(goroutines, "patch", lambda: calls.append("patch"), raising=False)
    script = write(
        tmp_path / "prog.py",
        """\
        import os, sys
        sys.argv.append("changed")
        print(sys.argv[1:], sys.path[0] == os.path.dirname(sys.argv[0]))
        sys.exit(4)
        """,
    )
    argv, path, main_module = list(sys.argv), list(sys.path), sys.modules["__main__"]
    assert _cli.main(["run", str(script), "arg"]) == 4
    assert calls == ["patch"]
    assert capsys.readouterr().out == "['arg', 'changed'] True\n"
    assert (sys.argv, sys.path, sys.modules["__main__"]) == (argv, path, main_module)
