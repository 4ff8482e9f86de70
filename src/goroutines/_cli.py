"""The ``goroutines`` command: ``goroutines run [options] SCRIPT [ARGS...]``,
``goroutines trace summarize FILE`` and ``goroutines trace plot FILE -o OUT``.

Also reachable as ``python -m goroutines``. ``run`` runs a Python program the
way ``python SCRIPT [ARGS...]`` (or ``python -m MODULE``) does, except that its
top level is the main goroutine of a ``goroutines.run``, with
``goroutines.patch()`` applied first.

Design:

- **The program's top level is goroutine 1** (``run_program``, which is
  ``goroutines.run`` except that a ``goroutines.run(main)`` called by the
  program's top level, as most scripts end, runs ``main`` right there in
  goroutine 1 instead of failing as a nested run). We compile the script and
  ``exec`` it in a fresh ``__main__`` module from inside ``run``'s main
  function, with the module attributes ``python SCRIPT`` gives
  (``__name__ == "__main__"``, an absolute ``__file__``, ``__loader__``,
  ``__spec__``), instead of calling ``runpy``: the effect is the same, but no
  runpy frames sit under the script's ``<module>`` frame, so goroutine dumps
  and tracebacks start at the program's own code, as Go's and Python's do
  (the runtime already leaves this package's frames out of dumps).
  Directories and zip files with a ``__main__.py`` and ``-m MODULE`` work the
  same way, found with importlib as runpy finds them.
- **Finding and compiling happen before the run starts**, so a missing file
  exits 2 with Python's ``can't open file`` message and a ``SyntaxError`` is
  printed without a traceback, as ``python SCRIPT`` does. ``-m`` is the
  exception: finding a module imports its parent packages, which is program
  code, so that happens inside the main goroutine.
- **Command line.** Everything from SCRIPT on (or after ``-m MODULE``, or
  after ``--``) belongs to the program, even what looks like an option:
  ``_split_run_args`` cuts the argument list there and argparse sees only
  ``run``'s own options (abbreviations off, so the cut is exact).
- **``sys.argv``, ``sys.path``, ``sys.modules["__main__"]``** are set as Python
  sets them (``[SCRIPT, *ARGS]``; the script's real directory first on the
  path unless ``-P``/``PYTHONSAFEPATH``, the current directory for ``-m``) and
  restored afterwards, so ``main`` can be called in-process without leaking.
- **Exit status**, decided in one place (``_run_program``): the program's own
  ``SystemExit`` (None is 0, an int is itself, anything else is printed to
  stderr and gives 1, as Python does); 1 for an uncaught exception, printed
  through ``sys.excepthook`` (so the program's own hook and the exception's
  notes are honoured) after dropping the leading frames of this package,
  runpy and importlib; 2 for ``DeadlockError``, printed as Go prints it
  (``fatal error:`` and the dump); 130 for ``KeyboardInterrupt``; 2 for
  command-line errors (argparse's convention); 66 when the race detector
  reported a race and the program exited cleanly (Go's status).
- **``--race``** runs the program under the race detector: its code is
  rewritten from its source (``_instrumented``), and a clean exit becomes
  66 if a race was reported, as Go's race runtime does.
- **``trace``** reads a file that ``--trace`` wrote; the reading and drawing
  live in ``goroutines._trace_tools``, this module only parses the command
  line. Exit status 2 for a file that cannot be read or is not a trace, and
  for ``plot`` without matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import argparse
import builtins
import functools
import importlib.machinery
import importlib.util
import io
import os
import pkgutil
import sys
import types
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import goroutines
from goroutines._runtime import run_program

__all__ = ["main"]

EXIT_EXCEPTION = 1
EXIT_USAGE = 2
EXIT_DEADLOCK = 2  # Go's status for a fatal error such as a deadlock
EXIT_RACE = 66  # Go's status when the race detector reported a race
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell shows for a program stopped by Ctrl-C

# Options of `run` that take a value as the next argument.
_VALUE_OPTIONS = frozenset({"--trace", "--gomaxprocs", "-m"})

# Where the frames come from that a traceback of the program's exception starts
# with, before its own code: this package, and importlib's for -m.
_MACHINERY = (
    os.path.dirname(os.path.abspath(__file__)) + os.sep,
    os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep,
    "<frozen importlib.",
)


class _CannotRun(Exception):
    """The program could not be found (e.g. ``-m`` names no module): a message
    for stderr and the exit status, as Python reports it."""

    def __init__(self, message: str, status: int = EXIT_EXCEPTION) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class _Program:
    """What the main goroutine executes: a code object, and the attributes of
    the ``__main__`` module it runs in besides ``__name__``."""

    code: types.CodeType
    module_attrs: dict[str, Any]


# ---- the command line ----------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Run the ``goroutines`` command with ``argv`` (default ``sys.argv[1:]``);
    return the exit status. Usage errors and ``--help`` raise ``SystemExit``."""
    args = list(sys.argv[1:] if argv is None else argv)
    parser, run_parser = _parsers(prog or "goroutines")
    if args and args[0] == "trace":
        return _trace(parser.parse_args(args))
    if not args or args[0] != "run":
        parser.parse_args(args)  # prints the help or a usage error, and exits
        parser.error("options go after the command")  # e.g. "-- run": not worth supporting
    own, program = _split_run_args(args[1:])
    options = run_parser.parse_args(own)
    return _run(options, program, run_parser)


def _parsers(prog: str) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Go's concurrency model for Python: goroutines, channels and select.",
        epilog=f"Run '{prog} COMMAND --help' for a command's options.",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    run = commands.add_parser(
        "run",
        allow_abbrev=False,
        usage=(
            "%(prog)s [-h] [--race] [--trace FILE] [--gomaxprocs N] (SCRIPT | -m MODULE) [ARGS ...]"
        ),
        help="run a Python script with its top level as the main goroutine",
        description=(
            "Run SCRIPT as 'python SCRIPT ARGS...' would, with its top level as the main "
            "goroutine of goroutines.run() and goroutines.patch() applied: the script can "
            "use channels, select, goroutines.time.sleep and go() without calling run() "
            "itself. SCRIPT may also be a directory or zip file with a __main__.py."
        ),
        epilog=(
            "exit status: the script's own (sys.exit); 1 for an uncaught exception; "
            "2 for a deadlock (as Go: 'fatal error: all goroutines are asleep - deadlock!' "
            "and a goroutine dump on stderr) or a usage error; 66 when the race detector "
            "reported a race; 130 when interrupted."
        ),
    )
    run.add_argument(
        "--race",
        action="store_true",
        help="report data races between goroutines (exit status 66 if any)",
    )
    run.add_argument(
        "--trace",
        metavar="FILE",
        help="write an execution trace to FILE (Chrome trace-event JSON, opens in Perfetto)",
    )
    run.add_argument(
        "--gomaxprocs",
        metavar="N",
        type=_positive_int,
        help="run goroutines on N worker threads (default: $GOMAXPROCS, else 1 on a "
        "CPython with a GIL and the number of CPUs on a free-threaded one)",
    )
    run.add_argument(
        "-m",
        dest="module",
        metavar="MODULE",
        help="run library module MODULE as a script, as 'python -m MODULE' does",
    )
    # For the help only: _split_run_args takes these off before argparse sees them.
    run.add_argument("script", metavar="SCRIPT", nargs="?", help="the Python file to run")
    run.add_argument(
        "args",
        metavar="ARGS",
        nargs="*",
        help="arguments passed to the program untouched (its sys.argv[1:]), options included",
    )
    _add_trace_parser(commands)
    return parser, run


def _add_trace_parser(commands: Any) -> None:
    trace = commands.add_parser(
        "trace",
        help="read an execution trace written by 'run --trace FILE'",
        description="Read an execution trace written by 'goroutines run --trace FILE' "
        "or goroutines.run(main, trace=FILE).",
    )
    actions = trace.add_subparsers(title="actions", metavar="ACTION", required=True)
    summarize = actions.add_parser(
        "summarize",
        help="per-goroutine run and block time, and the top blocking sites",
        description="Print each goroutine's run time (on a worker) and block time (from "
        "blocking until made ready), then the sites where goroutines blocked longest.",
    )
    summarize.add_argument("file", metavar="FILE", help="the trace file")
    summarize.add_argument(
        "--top", type=_positive_int, default=10, metavar="N", help="blocking sites shown (10)"
    )
    summarize.set_defaults(action="summarize")
    plot = actions.add_parser(
        "plot",
        help="draw the timeline as an image (needs matplotlib)",
        description="Draw the timeline: a row per worker, a colour per goroutine, "
        "block and unblock marks. Needs matplotlib: pip install 'goroutines[plot]'.",
    )
    plot.add_argument("file", metavar="FILE", help="the trace file")
    plot.add_argument("-o", "--output", required=True, metavar="OUT", help="image to write (.png)")
    plot.add_argument("--width", type=float, default=12.0, help="inches (default 12)")
    plot.add_argument("--dpi", type=_positive_int, default=100, help="dots per inch (100)")
    plot.set_defaults(action="plot")


def _trace(options: argparse.Namespace) -> int:
    from goroutines import _trace_tools as tools  # matplotlib is imported only by plot

    try:
        trace = tools.load(options.file)
    except OSError as exc:
        return _complain(f"{options.file}: {exc.strerror or exc}", EXIT_USAGE)
    except tools.TraceError as exc:
        return _complain(str(exc), EXIT_USAGE)
    if options.action == "summarize":
        try:
            tools.summarize(trace, sys.stdout, top=options.top)
            sys.stdout.flush()
        except BrokenPipeError:  # e.g. piped into head: stop quietly, as Unix tools do
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_EXCEPTION
        return 0
    try:
        tools.plot(trace, options.output, width=options.width, dpi=options.dpi)
    except tools.PlotUnavailable as exc:
        return _complain(str(exc), EXIT_USAGE)
    return 0


def _split_run_args(args: list[str]) -> tuple[list[str], list[str]]:
    """Split ``run``'s arguments into its own options and the program's part:
    SCRIPT and its ARGS, or the ARGS after ``-m MODULE``. The program's part
    starts at the first argument that is neither an option nor an option's
    value; ``--`` also ends the options (and is dropped)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return args[:i], args[i + 1 :]
        if arg.startswith("-m") and arg != "-m":  # -mMODULE
            return args[: i + 1], args[i + 1 :]
        if arg == "-m":
            return args[: i + 2], args[i + 2 :]
        if arg == "-" or not arg.startswith("-"):
            return args[:i], args[i:]
        i += 2 if arg in _VALUE_OPTIONS else 1
    return args, []


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"N must be an integer >= 1, not {text!r}")
    return value


# ---- goroutines run ------------------------------------------------------------------


def _run(options: argparse.Namespace, program: list[str], parser: argparse.ArgumentParser) -> int:
    if options.module is None and not program:
        parser.error("the following arguments are required: SCRIPT (or -m MODULE)")
    races = goroutines._race.reported()
    try:
        status = _run_program(options, program)
    except KeyboardInterrupt:
        return _complain("interrupted", EXIT_INTERRUPTED)
    if status == 0 and goroutines._race.reported() > races:
        return EXIT_RACE  # as Go's race runtime: only a clean exit becomes 66
    return status


def _run_program(options: argparse.Namespace, program: list[str]) -> int:
    load: _Program | Callable[[], _Program]
    if options.module is not None:
        load = functools.partial(_find_module, options.module)
        argv = [options.module, *program]  # argv[0] becomes the module's file once found
        first_on_path = os.getcwd()
    else:
        script = program[0]
        argv = program
        try:
            found, first_on_path = _find_script(script)
        except OSError as exc:
            message = f"can't open file '{os.path.abspath(script)}'"
            return _complain(f"{message}: [Errno {exc.errno}] {exc.strerror}", EXIT_USAGE)
        except (SyntaxError, ValueError) as exc:  # ValueError: null bytes, on 3.11
            sys.excepthook(type(exc), exc.with_traceback(None), None)
            return EXIT_EXCEPTION
        except _CannotRun as exc:
            return _complain(str(exc), exc.status)
        load = found

    goroutines.patch()
    try:
        with _program_sys(argv, first_on_path):
            run_program(
                _main_goroutine(load, race=options.race),
                gomaxprocs=options.gomaxprocs,
                race=options.race,
                trace=options.trace,
            )
    except SystemExit as exc:
        return _exit_status(exc)
    except goroutines.DeadlockError as exc:
        print(f"fatal error: {str(exc).rstrip()}", file=sys.stderr, flush=True)
        return EXIT_DEADLOCK
    except _CannotRun as exc:
        return _complain(str(exc), exc.status)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        _print_exception(exc)
        return EXIT_EXCEPTION
    return 0


# ---- finding the program ---------------------------------------------------------------


def _find_script(path: str) -> tuple[_Program, str]:
    """The program of ``python path``, and the directory Python puts first on
    ``sys.path`` for it."""
    filename = os.path.abspath(path)
    importer = pkgutil.get_importer(filename)
    if importer is None:  # a file
        with io.open_code(filename) as file:  # bytes: compile honours the coding cookie
            source = file.read()
        code = compile(source, filename, "exec", dont_inherit=True)
        loader = importlib.machinery.SourceFileLoader("__main__", filename)
        attrs = {"__file__": filename, "__cached__": None, "__loader__": loader}
        program = _Program(code, {**attrs, "__spec__": None, "__package__": None})
        return program, os.path.dirname(os.path.realpath(path))
    # A directory or zip file: its __main__ module, found on it as on sys.path.
    spec = importer.find_spec("__main__")
    if spec is None:
        raise _CannotRun(f"can't find '__main__' module in '{filename}'")
    return _program_of(spec, "__main__"), filename


def _find_module(name: str) -> _Program:
    """The program of ``python -m name``. Runs in the main goroutine: finding
    a module imports its parent packages. Sets ``sys.argv[0]`` as Python does."""
    spec = _module_spec(name)
    if spec.submodule_search_locations is not None:  # a package: run its __main__
        main_name = f"{name}.__main__"
        main_spec = _module_spec(main_name)
        if main_spec.submodule_search_locations is not None:
            raise _CannotRun(f"Cannot use package as __main__ module: {name!r}")
        spec = main_spec
    program = _program_of(spec, name)
    if spec.origin is not None:
        sys.argv[0] = spec.origin
    return program


def _module_spec(name: str) -> importlib.machinery.ModuleSpec:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:  # as runpy
        message = f"Error while finding module specification for {name!r}"
        raise _CannotRun(f"{message} ({type(exc).__name__}: {exc})") from None
    if spec is None:
        if name.endswith(".__main__"):
            package = name.removesuffix(".__main__")
            raise _CannotRun(
                f"No module named {name}; {package!r} is a package and cannot be directly executed"
            )
        raise _CannotRun(f"No module named {name}")
    return spec


def _program_of(spec: importlib.machinery.ModuleSpec, name: str) -> _Program:
    loader = spec.loader
    get_code = getattr(loader, "get_code", None)
    code = get_code(spec.name) if get_code is not None else None
    if not isinstance(code, types.CodeType):
        raise _CannotRun(f"No code object available for {name}")
    attrs = {"__file__": spec.origin, "__cached__": spec.cached, "__loader__": loader}
    return _Program(code, {**attrs, "__spec__": spec, "__package__": spec.parent})


# ---- running it ----------------------------------------------------------------------


def _main_goroutine(load: _Program | Callable[[], _Program], *, race: bool) -> Callable[[], None]:
    """The main goroutine's function: execute the program (found by ``load()``
    if not found yet) in a fresh ``__main__`` module; with ``race``, its code
    instrumented for the race detector."""

    def body() -> None:
        program = load if isinstance(load, _Program) else load()
        module = types.ModuleType("__main__")
        module.__dict__.update(program.module_attrs, __builtins__=builtins)
        code = _instrumented(program, module) if race else program.code
        with _main_module(module):
            exec(code, module.__dict__)

    # The runtime names goroutine 1 after its function in notes ("raised in
    # goroutine 1 (__main__.<module>)") and dumps: name it after the program.
    body.__module__ = "__main__"
    body.__qualname__ = "<module>"
    return body


def _instrumented(program: _Program, module: types.ModuleType) -> types.CodeType:
    """The program's code rewritten for the race detector, from its source
    (as the detector's import hook rewrites the modules it imports); its
    plain code if it has no source."""
    from goroutines._race import instrument, sink

    loader = program.module_attrs.get("__loader__")
    spec = program.module_attrs.get("__spec__")
    get_source = getattr(loader, "get_source", None)
    source = get_source(spec.name if spec is not None else "__main__") if get_source else None
    if source is None:
        return program.code
    module.__dict__[instrument.SINK] = sink
    return instrument.compile_source(source, program.code.co_filename)


@contextmanager
def _main_module(module: types.ModuleType) -> Iterator[None]:
    saved = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        yield
    finally:
        if saved is not None:
            sys.modules["__main__"] = saved
        else:
            sys.modules.pop("__main__", None)


@contextmanager
def _program_sys(argv: list[str], first_on_path: str) -> Iterator[None]:
    """``sys.argv`` and ``sys.path`` as Python sets them, restored afterwards."""
    saved_argv, saved_path = sys.argv, sys.path
    sys.argv = list(argv)
    sys.path = list(saved_path)
    if not sys.flags.safe_path:
        sys.path.insert(0, first_on_path)
    try:
        yield
    finally:
        sys.argv, sys.path = saved_argv, saved_path


# ---- reporting -----------------------------------------------------------------------


def _exit_status(exc: SystemExit) -> int:
    """The status Python exits with for an uncaught ``SystemExit``."""
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr, flush=True)
    return EXIT_EXCEPTION


def _print_exception(exc: BaseException) -> None:
    """Print an uncaught exception as Python would: through ``sys.excepthook``,
    with the traceback starting at the program's own code."""
    tb = exc.__traceback__
    while tb is not None and _is_machinery(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    if tb is not None or isinstance(exc, SyntaxError):
        exc.__traceback__ = tb  # else raised by the runtime itself: keep every frame
    sys.excepthook(type(exc), exc, exc.__traceback__)


def _is_machinery(filename: str) -> bool:
    return filename.startswith(_MACHINERY)


def _complain(message: str, status: int) -> int:
    print(f"goroutines: {message}", file=sys.stderr, flush=True)
    return status
