"""Slows down one sender who floods the bot, without slowing anyone else."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class _Sender:
    arrivals: deque[float] = field(default_factory=deque)
    warned: bool = False


class FloodGate:
    """At most `limit` messages per `window` seconds per sender; beyond that they are dropped.

    In memory on purpose: a flood is a matter of seconds, and the check runs on every update.
    """

    def __init__(
        self, limit: int = 30, window: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._senders: dict[int, _Sender] = {}

    def admit(self, sender_id: int) -> tuple[bool, bool]:
        """(let it through, warn now): the sender is warned once per flood."""
        now = self._clock()
        sender = self._senders.setdefault(sender_id, _Sender())
        while sender.arrivals and sender.arrivals[0] <= now - self._window:
            sender.arrivals.popleft()
        if len(sender.arrivals) < self._limit:
            sender.arrivals.append(now)
            sender.warned = False
            return True, False
        warn = not sender.warned
        sender.warned = True
        return False, warn

    def forget_idle(self) -> None:
        now = self._clock()
        idle = [
            key
            for key, sender in self._senders.items()
            if not sender.arrivals or sender.arrivals[-1] <= now - self._window
        ]
        for key in idle:
            del self._senders[key]
