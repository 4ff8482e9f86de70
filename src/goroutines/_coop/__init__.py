"""``goroutines.patch()``: make the stdlib's blocking I/O cooperative in goroutines.

Each cooperative module here (``socket``, ``ssl``, ``select``, ``selectors``,
``time``) lists what it replaces in ``PATCHES``, as ``(owner, name,
replacement)`` triples; ``patch`` applies them all. Every replacement keeps the
stdlib's behaviour outside goroutines: it checks whether its caller is a
goroutine and, if not, calls the original.
"""

from __future__ import annotations

import threading

__all__ = ["patch"]

_lock = threading.Lock()
_patched = False


def patch() -> None:
    """Make ``socket``, ``ssl``, ``select``, ``selectors``, ``time.sleep`` and
    DNS look-ups cooperative inside goroutines: from then on they park only the
    calling goroutine (network waits go through the runtime's poller, look-ups
    through ``goroutines.blocking``). Outside goroutines they behave as before.
    ``threading`` is not patched. Idempotent, and permanent for the process.

    Call it before other modules bind the names it replaces (``from socket
    import socket``, ``from time import sleep``): those keep the originals.
    ``goroutines run SCRIPT`` calls it before the script starts.
    """
    global _patched
    with _lock:
        if _patched:
            return
        from . import select, selectors, socket, ssl, time

        for module in (socket, ssl, select, selectors, time):
            for owner, name, replacement in module.PATCHES:
                setattr(owner, name, replacement)
        _patched = True
