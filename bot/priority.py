"""The event loop first: heavy work of the bot's own (hashing, reading a photo) runs at a lower
CPU priority than the thread that answers every family.

With every core busy hashing or reading, the kernel would otherwise share the cores evenly, and
the loop, which needs a few milliseconds per answer, would wait tens of milliseconds for a
turn. At a lower priority the heavy work takes what the loop leaves, which on a busy server is
nearly all of it. Both kinds of heavy work share the same lower priority, so neither starves
the other. (Linux gives each thread its own nice value, and threads and processes started
afterwards inherit it; lowering one's own priority needs no privilege.)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading

# How many nice(2) levels below the rest of the bot's process.
BACKGROUND_NICENESS = 10


def run_in_background() -> None:
    """Lowers the calling thread's CPU priority by BACKGROUND_NICENESS, as far as the system
    allows; where it does not (no setpriority, a policy that refuses), nothing changes."""
    with contextlib.suppress(OSError, AttributeError):  # AttributeError: no setpriority
        thread = threading.get_native_id()
        inherited = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(inherited + BACKGROUND_NICENESS, 19))


def name_this_thread() -> None:
    """Gives the calling thread's Python name ("argon2_0", "sqlite-run_0") to the kernel, which
    Python 3.11 does not: `top -H`, `/proc/<pid>/task/*/comm` and the benchmark then tell the
    hashing threads from SQLite's writer. Linux only; the kernel keeps 15 bytes of it."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):
        pr_set_name = 15
        name = threading.current_thread().name.encode(errors="replace")[:15]
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_name, name, 0, 0, 0)


def in_background_named() -> None:
    """A pool's initializer for the heavy work: named (`name_this_thread`), then lowered."""
    name_this_thread()
    run_in_background()
