"""Whose code a file holds: the user's, an installed library's, this package's,
or the standard library's.

Two tools ask: preemption (``preempt``) switches a goroutine away only in code
that is neither this package's nor the standard library's (an installed
library counts as the user's there); the race detector's import hook
(``goroutines._race.instrument``) rewrites only the user's own modules, not
installed libraries either. Both read ``kind(filename)``.
"""

from __future__ import annotations

import os
import site
import sysconfig

USER, SITE, OURS, STDLIB = 0, 1, 2, 3  # what ``kind`` returns

PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.realpath(__file__))) + os.sep


def _dirs(*paths: str | None) -> tuple[str, ...]:
    return tuple({os.path.realpath(p) + os.sep for p in paths if p})


# Installed libraries' directories may lie inside the standard library's
# (``lib/python3.X/site-packages``), so they are tested first.
_SITE_DIRS = _dirs(
    sysconfig.get_path("purelib"),
    sysconfig.get_path("platlib"),
    site.getusersitepackages(),
    *site.getsitepackages(),
)
_STDLIB_DIRS = _dirs(sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib"))
_kinds: dict[str, int] = {}  # co_filename -> kind; a dict's get and set are atomic


def kind(filename: str) -> int:
    """``USER``, ``SITE``, ``OURS`` or ``STDLIB`` for a code object's
    ``co_filename`` or a module's ``__file__`` (cached)."""
    found = _kinds.get(filename)
    if found is None:
        found = _kinds[filename] = _classify(filename)
    return found


def _classify(filename: str) -> int:
    if filename.startswith("<frozen "):
        return STDLIB  # importlib's bootstrap (the import lock), codecs, ...
    path = os.path.realpath(filename) if os.path.isabs(filename) else filename
    if path.startswith(PACKAGE_DIR):
        return OURS
    if path.startswith(_SITE_DIRS):
        return SITE
    if path.startswith(_STDLIB_DIRS):
        return STDLIB
    return USER
