"""Go's race detector tests, ported: ``tests/race_programs/*.py`` under ``--race``.

Each program is one test of Go's ``src/runtime/race/testdata`` translated
into goroutines' API, run as ``goroutines run --race --gomaxprocs N PROG``
(N = 1 and 2: races are logical, so both must give the same reports) in a
fresh interpreter. Its expected outcome is written at its top:

    # Go: TestRaceChanAsyncRev (chan_test.go)
    # location: global
    # expect: 1 race
    # race: global 'v' of module __main__: write line 19 / write line 26

``location`` is the kind of shared state the program uses (``global``,
``attribute`` or ``item``). ``expect`` is ``no race`` or ``K race(s)``
followed by K ``race`` lines: the location as the report names it, without
its address, then the two accesses (read or write, and the program's line
that the report's stack shows innermost), in either order.

What is checked:

- a racy program exits 66, its stderr holds exactly the expected races, each
  reported once (reports are once per pair of code locations), and ends with
  ``Found K data race(s)``; nothing else is on stderr;
- a race-free program exits 0 with an empty stderr;
- now, before the detector exists: every header is well formed, its lines
  point at the accesses it names, and every program runs to completion
  without ``--race`` under both GOMAXPROCS values (so a failure under
  ``--race`` is the detector's, not the program's).

A racy program makes both accesses happen for sure (it waits for the
goroutines involved, after the racy access) and races on the same pair of
lines whatever the schedule: where Go's test has two mirrored closures whose
race depends on which goroutine wins, the port calls one function twice
with its arguments swapped.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

PROGRAMS_DIR = Path(__file__).parent / "race_programs"
PROGRAMS = sorted(PROGRAMS_DIR.glob("*.py"))
GOMAXPROCS = (1, 2)
TIMEOUT = 30.0
EXIT_RACE = 66  # Go's exit status when the race detector reported a race

LOCATION_KINDS = ("global", "attribute", "item")
SEPARATOR = "=================="
WARNING = "WARNING: DATA RACE"

_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
_GOROUTINE_NUMBER = re.compile(r"\b([Gg]oroutine) \d+")
_ACCESS_HEADER = re.compile(
    r"^(?P<previous>Previous )?(?P<kind>[Rr]ead|[Ww]rite) at (?P<what>.+)"
    r" by (?P<actor>main goroutine|goroutine \d+|thread '.*'):$"
)
_FRAME_FILE = re.compile(r"^\s+(?P<file>\S.*):(?P<line>\d+)$")
_FOUND = re.compile(r"^Found (?P<count>\d+) data race\(s\)$")

_HEADER_GO = re.compile(r"^# Go: (?P<name>\S+.*)$")
_HEADER_LOCATION = re.compile(r"^# location: (?P<kind>\w+)$")
_HEADER_EXPECT = re.compile(r"^# expect: (?:(?P<none>no race)|(?P<count>\d+) races?)$")
_HEADER_RACE = re.compile(
    r"^# race: (?P<what>.+): (?P<kind1>read|write) line (?P<line1>\d+)"
    r" / (?P<kind2>read|write) line (?P<line2>\d+)$"
)


# ---- races and reports ---------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Access:
    """One side of a race: what was done where, to which location."""

    kind: str  # "read" or "write"
    what: str  # the location as a report names it, without its address
    file: str  # base name of the innermost frame's file
    line: int  # the innermost frame's line

    def __str__(self) -> str:
        return f"{self.kind} {self.what} at {self.file}:{self.line}"


# A race is an unordered pair of accesses; kept sorted so that equal pairs compare equal.
Race = tuple[Access, Access]


def make_race(a: Access, b: Access) -> Race:
    return (a, b) if a <= b else (b, a)


def format_race(race: Race) -> str:
    return f"{race[0]}  /  {race[1]}"


def normalise(text: str) -> str:
    """``text`` with addresses and goroutine numbers blanked, as reports are compared."""
    return _GOROUTINE_NUMBER.sub(r"\1 N", _ADDRESS.sub("0x?", text))


def location_name(what: str) -> str:
    """A report's location without its address: ``attribute 'x' of Box object``."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", what).strip()


@dataclass(frozen=True)
class Report:
    """One ``WARNING: DATA RACE`` block."""

    current: Access
    previous: Access
    actors: tuple[str, str]  # "goroutine 7", "main goroutine", "thread 'Thread-1'"

    @property
    def race(self) -> Race:
        return make_race(self.current, self.previous)


@dataclass
class Stderr:
    """A ``--race`` run's stderr, parsed."""

    reports: list[Report]
    found: int | None  # K of the "Found K data race(s)" line, if there is one
    problems: list[str]  # malformed blocks, and lines outside blocks besides "Found"


def parse_stderr(text: str) -> Stderr:
    """Split ``text`` into report blocks (between separator lines) and the rest."""
    reports: list[Report] = []
    found: int | None = None
    problems: list[str] = []
    block: list[str] | None = None
    for line in text.splitlines():
        if line == SEPARATOR:
            if block is None:
                block = []
            else:
                _parse_block(block, reports, problems)
                block = None
        elif block is not None:
            block.append(line)
        elif match := _FOUND.match(line):
            if found is not None:
                problems.append(f"a second line {line!r}")
            found = int(match["count"])
        elif line.strip():
            problems.append(f"unexpected line outside reports: {line!r}")
    if block is not None:
        problems.append("a report is not closed by " + SEPARATOR)
    return Stderr(reports, found, problems)


def _parse_block(lines: list[str], reports: list[Report], problems: list[str]) -> None:
    if not lines or lines[0] != WARNING:
        problems.append(f"a block does not start with {WARNING!r}: {lines[:1]}")
        return
    accesses: list[tuple[Access, str, bool]] = []
    header: re.Match[str] | None = None
    for line in lines[1:]:
        if match := _ACCESS_HEADER.match(line):
            header = match
        elif header is not None and (frame := _FRAME_FILE.match(line)):
            access = Access(
                kind=header["kind"].lower(),
                what=location_name(header["what"]),
                file=Path(frame["file"]).name,
                line=int(frame["line"]),
            )
            accesses.append((access, header["actor"], bool(header["previous"])))
            header = None  # only the innermost frame counts
    if header is not None:
        problems.append(f"an access without a stack: {header[0]!r}")
        return
    order = [previous for _, _, previous in accesses]
    if order != [False, True]:
        problems.append(
            "a report needs one access then one 'Previous' access, each with a stack; got "
            + ", ".join(str(access) for access, _, _ in accesses)
        )
        return
    (current, actor, _), (previous, previous_actor, _) = accesses
    reports.append(Report(current, previous, (actor, previous_actor)))


# ---- program headers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Expectation:
    go_name: str
    location: str
    races: tuple[Race, ...]  # empty for a race-free program


def read_expectation(program: Path) -> Expectation:
    """The header of ``program``; raises ValueError when it is malformed."""
    lines = program.read_text().splitlines()
    go_name = _header_field(_HEADER_GO, lines, 0, program)["name"]
    location = _header_field(_HEADER_LOCATION, lines, 1, program)["kind"]
    if location not in LOCATION_KINDS:
        raise ValueError(f"{program.name}: location {location!r} is not one of {LOCATION_KINDS}")
    expect = _header_field(_HEADER_EXPECT, lines, 2, program)
    count = 0 if expect["none"] else int(expect["count"])
    if count == 0 and not expect["none"]:
        raise ValueError(f"{program.name}: write '# expect: no race' rather than 0 races")
    races = []
    for index in range(3, 3 + count):
        match = _header_field(_HEADER_RACE, lines, index, program)
        what = match["what"]
        races.append(
            make_race(
                Access(match["kind1"], what, program.name, int(match["line1"])),
                Access(match["kind2"], what, program.name, int(match["line2"])),
            )
        )
    if 3 + count < len(lines) and lines[3 + count].startswith("# race:"):
        raise ValueError(f"{program.name}: more '# race:' lines than '# expect:' announces")
    if len(set(races)) != len(races):
        raise ValueError(f"{program.name}: the same race is expected twice")
    return Expectation(go_name, location, tuple(races))


def _header_field(
    pattern: re.Pattern[str], lines: list[str], index: int, program: Path
) -> re.Match[str]:
    line = lines[index] if index < len(lines) else ""
    match = pattern.match(line)
    if match is None:
        raise ValueError(f"{program.name}:{index + 1}: {line!r} does not match {pattern.pattern}")
    return match


# ---- checking a run ----------------------------------------------------------------------


def check_racy_run(expected: tuple[Race, ...], returncode: int, stderr: str) -> list[str]:
    """What is wrong with a ``--race`` run of a racy program (nothing: an empty list)."""
    parsed = parse_stderr(stderr)
    problems = list(parsed.problems)
    if returncode != EXIT_RACE:
        problems.append(f"exit status {returncode}, expected {EXIT_RACE}")
    for report in parsed.reports:
        if report.current.what != report.previous.what:
            problems.append(f"a report names two locations: {format_race(report.race)}")
        if "write" not in (report.current.kind, report.previous.kind):
            problems.append(f"a report of two reads: {format_race(report.race)}")
        if report.actors[0] == report.actors[1]:
            problems.append(f"both accesses by {report.actors[0]}: {format_race(report.race)}")
    reported = Counter(report.race for report in parsed.reports)
    for race, times in sorted(reported.items()):
        if times > 1:
            problems.append(f"reported {times} times (once per pair expected): {format_race(race)}")
    for race in sorted(set(expected) - set(reported)):
        problems.append(f"not reported: {format_race(race)}")
    for race in sorted(set(reported) - set(expected)):
        problems.append(f"reported but not expected: {format_race(race)}")
    if parsed.found != len(expected):
        problems.append(
            f"'Found K data race(s)' gives K = {parsed.found}, expected {len(expected)}"
        )
    return problems


def check_free_run(returncode: int, stderr: str) -> list[str]:
    """What is wrong with a ``--race`` run of a race-free program."""
    problems = []
    if returncode != 0:
        problems.append(f"exit status {returncode}, expected 0")
    if stderr:
        problems.append("stderr is not empty")
    return problems


def run_program(program: Path, gomaxprocs: int) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "goroutines", "run", "--race"]
    command += ["--gomaxprocs", str(gomaxprocs), str(program)]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)


@pytest.mark.parametrize("gomaxprocs", GOMAXPROCS)
@pytest.mark.parametrize("program", PROGRAMS, ids=lambda path: path.stem)
def test_program_under_race(program: Path, gomaxprocs: int) -> None:
    expectation = read_expectation(program)
    proc = run_program(program, gomaxprocs)
    if expectation.races:
        problems = check_racy_run(expectation.races, proc.returncode, proc.stderr)
    else:
        problems = check_free_run(proc.returncode, proc.stderr)
    if problems:
        expected = "\n".join(map(format_race, expectation.races)) or "no race"
        pytest.fail(
            f"{program.name} ({expectation.go_name}) with --gomaxprocs {gomaxprocs}:\n"
            + "\n".join(f"- {problem}" for problem in problems)
            + f"\nexpected:\n{textwrap.indent(expected, '  ')}"
            + f"\nstderr (normalised):\n{textwrap.indent(normalise(proc.stderr), '  ')}",
            pytrace=False,
        )


# ---- the programs themselves, checked without the detector -----------------------------------


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda path: path.stem)
def test_program_header(program: Path) -> None:
    expectation = read_expectation(program)
    racy = bool(expectation.races)
    assert program.name.startswith("racy_" if racy else "free_"), (
        "racy programs are named racy_*.py, race-free ones free_*.py"
    )
    source = program.read_text().splitlines()
    for race in expectation.races:
        for access in race:
            assert access.what.startswith(f"{expectation.location} "), (
                f"{access} is not a location of kind {expectation.location!r}"
            )
            assert 1 <= access.line <= len(source), f"{access}: no such line"
            text = source[access.line - 1]
            assert _mentions(text, access.what), f"{access}: line {access.line} is {text!r}"


def _mentions(text: str, what: str) -> bool:
    """Whether a source line could access the location ``what`` names."""
    if match := re.match(r"global '(\w+)'", what):
        return re.search(rf"\b{match[1]}\b", text) is not None
    if match := re.match(r"attribute '(\w+)'", what):
        return re.search(rf"\.{match[1]}\b", text) is not None
    return "[" in text  # an item


def test_programs_cover_go_and_every_location_kind() -> None:
    expectations = [read_expectation(program) for program in PROGRAMS]
    assert len(expectations) >= 45
    for racy in (True, False):
        kinds = {e.location for e in expectations if bool(e.races) == racy}
        assert kinds == set(LOCATION_KINDS), f"racy={racy}: only {sorted(kinds)}"


# Runs every program in one interpreter, in-process through the CLI, so that
# checking the 2 x len(PROGRAMS) runs costs two interpreter starts.
_DRIVER = """
import contextlib, io, json, sys
from goroutines import _cli

gomaxprocs, programs = sys.argv[1], sys.argv[2:]
for program in programs:
    print(json.dumps({"start": program}), flush=True)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = _cli.main(["run", "--gomaxprocs", gomaxprocs, program])
    output = {"stdout": out.getvalue(), "stderr": err.getvalue()}
    print(json.dumps({"program": program, "status": status, **output}), flush=True)
"""


@pytest.mark.parametrize("gomaxprocs", GOMAXPROCS)
def test_programs_run_to_completion_without_race(gomaxprocs: int) -> None:
    command = [sys.executable, "-c", _DRIVER, str(gomaxprocs), *map(str, PROGRAMS)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as timeout:
        output = timeout.stdout.decode() if isinstance(timeout.stdout, bytes) else ""
        last = output.strip().splitlines()[-1:] or ["nothing started"]
        pytest.fail(f"no end after {TIMEOUT} s; last line: {last[0]}", pytrace=False)
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    finished = [result for result in results if "program" in result]
    failures = [
        f"{Path(r['program']).name}: exit {r['status']}, stdout {r['stdout']!r}, "
        f"stderr:\n{textwrap.indent(r['stderr'], '  ')}"
        for r in finished
        if (r["status"], r["stdout"], r["stderr"]) != (0, "", "")
    ]
    assert proc.returncode == 0, proc.stderr
    assert len(finished) == len(PROGRAMS)
    assert not failures, "\n".join(failures)


# ---- the report parser, on a sample ------------------------------------------------------------

SAMPLE = """\
==================
WARNING: DATA RACE
Write at attribute 'x' of Box object at 0x7f3a2c0d1e50 by goroutine 7:
  worker()
      /abs/path/prog.py:10
  helper()
      /abs/path/prog.py:20

Previous read at attribute 'x' of Box object at 0x7f3a2c0d1e50 by main goroutine:
  <module>()
      /abs/path/prog.py:25

Goroutine 7 (running) created at:
  <module>()
      /abs/path/prog.py:24
==================
==================
WARNING: DATA RACE
Read at item 'k' of dict at 0x7f3a2c0e0000 by thread 'Thread-1':
  reader()
      /abs/path/prog.py:31

Previous write at item 'k' of dict at 0x7f3a2c0e0000 by goroutine 9:
  writer()
      /abs/path/prog.py:36

Goroutine 9 (finished) created at:
  <module>()
      /abs/path/prog.py:40
==================
Found 2 data race(s)
"""

SAMPLE_RACES = (
    make_race(
        Access("write", "attribute 'x' of Box object", "prog.py", 10),
        Access("read", "attribute 'x' of Box object", "prog.py", 25),
    ),
    make_race(
        Access("read", "item 'k' of dict", "prog.py", 31),
        Access("write", "item 'k' of dict", "prog.py", 36),
    ),
)


def test_parse_sample_report() -> None:
    parsed = parse_stderr(SAMPLE)
    assert parsed.problems == []
    assert parsed.found == 2
    assert [report.race for report in parsed.reports] == list(SAMPLE_RACES)
    first = parsed.reports[0]
    assert first.current == Access("write", "attribute 'x' of Box object", "prog.py", 10)
    assert first.actors == ("goroutine 7", "main goroutine")
    assert parsed.reports[1].actors == ("thread 'Thread-1'", "goroutine 9")


def test_check_racy_run_accepts_the_sample_in_any_order() -> None:
    assert check_racy_run(SAMPLE_RACES, EXIT_RACE, SAMPLE) == []
    assert check_racy_run(SAMPLE_RACES[::-1], EXIT_RACE, SAMPLE) == []


def test_check_racy_run_finds_what_is_wrong() -> None:
    first_block = SAMPLE[: SAMPLE.index(SEPARATOR + "\n" + SEPARATOR) + len(SEPARATOR) + 1]
    twice = first_block + first_block + "Found 2 data race(s)\n"
    problems = check_racy_run(SAMPLE_RACES[:1], EXIT_RACE, twice)
    assert any("reported 2 times" in problem for problem in problems), problems
    assert any("K = 2, expected 1" in problem for problem in problems), problems

    problems = check_racy_run(SAMPLE_RACES[:1], 0, SAMPLE + "Traceback (most recent call last):\n")
    assert any("exit status 0" in problem for problem in problems), problems
    assert any("reported but not expected" in problem for problem in problems), problems
    assert any("outside reports" in problem for problem in problems), problems

    problems = check_racy_run(SAMPLE_RACES, EXIT_RACE, SAMPLE.replace("Previous read", "Read"))
    assert any("one 'Previous' access" in problem for problem in problems), problems
    assert any("not reported" in problem for problem in problems), problems


def test_normalise_blanks_addresses_and_goroutine_numbers() -> None:
    text = "Write at global 'x' of module m by goroutine 12:\nGoroutine 3 at 0xdeadbeef"
    assert normalise(text) == "Write at global 'x' of module m by goroutine N:\nGoroutine N at 0x?"


def test_check_free_run() -> None:
    assert check_free_run(0, "") == []
    assert check_free_run(EXIT_RACE, SAMPLE) == [
        "exit status 66, expected 0",
        "stderr is not empty",
    ]


def test_read_expectation(tmp_path: Path) -> None:
    program = tmp_path / "racy_example.py"
    program.write_text(
        "# Go: TestRaceExample (chan_test.go)\n"
        "# location: item\n"
        "# expect: 1 race\n"
        "# race: item 'k' of dict: write line 7 / read line 9\n"
    )
    expectation = read_expectation(program)
    assert expectation.go_name == "TestRaceExample (chan_test.go)"
    assert expectation.location == "item"
    assert expectation.races == (
        make_race(
            Access("read", "item 'k' of dict", "racy_example.py", 9),
            Access("write", "item 'k' of dict", "racy_example.py", 7),
        ),
    )
    program.write_text(program.read_text().replace("1 race", "2 races"))
    with pytest.raises(ValueError, match="does not match"):
        read_expectation(program)
