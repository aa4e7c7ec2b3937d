"""Passwords: only ever an Argon2id hash, computed off the event loop; and finding a password
in a message about to reach other people."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.accounts.argon2_memory import ReusingPasswordHasher
from bot.priority import in_background_named

# The portal's rule is 8 characters or more; the upper bound keeps one hash cheap.
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

# Argon2id with RFC 9106's second recommended option (t=3 passes over m=64 MiB), well above
# OWASP's minimum (m=19 MiB, t=2, p=1), in 1 lane instead of argon2-cffi's default 4. Lanes
# change neither the memory nor the passes, so a guess costs an attacker the same; they only
# let one hash run on several cores, and its lanes meet at every slice of every pass: on a
# busy 2-core server, a lane whose core went to the event loop holds the others up. One lane
# a hash, and one hash a core, keep the cores busy instead. Hashes made with other parameters
# still verify (the parameters are in the hash), and are made anew at the next login.
HASHER = ReusingPasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)


class PasswordHashing:
    """Argon2id (see HASHER), off the event loop."""

    def __init__(
        self, hasher: PasswordHasher | None = None, *, parallel: int | None = None
    ) -> None:
        self._hasher = hasher or HASHER
        # Each hash keeps `parallelism` cores busy and holds 64 MiB for ~0.2 s. As many hashes
        # run at once as fill the cores, no more: more would only add memory (and wait for a
        # core all the same); the others wait in the pool's queue, and their families with them.
        lanes = self._hasher.parallelism
        self._pool = ThreadPoolExecutor(
            max_workers=parallel or max(1, (os.cpu_count() or 2) // lanes),
            thread_name_prefix="argon2",
            # Below the event loop, with the photo reader (bot/priority.py).
            initializer=in_background_named,
        )

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether a hash was made with other parameters than today's (an older release's)."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return False

    async def hash(self, password: str) -> str:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, self._hasher.hash, password
        )

    async def matches(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        return await asyncio.get_running_loop().run_in_executor(self._pool, check)

    async def found_in(self, text: str, password_hashes: Iterable[str]) -> bool:
        """Whether `text`, or a word of it, is the password of one of these hashes. For a
        message about to reach other people: a family may type its password where it should
        not. Each check costs a hash, so only a few likely words are tried."""
        hashes = list(dict.fromkeys(password_hashes))[:MAX_HASHES_CHECKED]
        for candidate in password_candidates(text):
            for password_hash in hashes:
                if await self.matches(password_hash, candidate):
                    return True
        return False


# A family's hashes (its draft's and its newest accounts') and the words of one message tried
# against them: at ~0.1 s a check, a question to the volunteers waits 1.4 s at the most.
MAX_HASHES_CHECKED = 2
MAX_WORDS_CHECKED = 6
_PUNCTUATION = ".,;:!?¡¿\"'()«»"


def password_candidates(text: str) -> list[str]:
    """The whole text, then its longest words that could be a password (8 characters or more,
    as the portal asks), without repeats."""
    # Passwords keep their spaces (see the validators), so the text as typed comes first. A word
    # is tried as typed and without the punctuation around it ("Clave2024!" may be either),
    # those with a digit or a symbol first: that is what the portal's passwords look like.
    typed = text.split()
    words = {*typed, *(word.strip(_PUNCTUATION) for word in typed)}
    ranked = sorted(words, key=lambda w: (w.strip(_PUNCTUATION).isalpha(), -len(w), w))
    found: list[str] = []
    for candidate in (text, text.strip(), *ranked):
        if len(found) > MAX_WORDS_CHECKED:
            break
        if MIN_PASSWORD_LENGTH <= len(candidate) <= MAX_PASSWORD_LENGTH and candidate not in found:
            found.append(candidate)
    return found
