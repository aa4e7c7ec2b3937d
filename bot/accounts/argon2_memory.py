"""Argon2id through libargon2 (argon2-cffi's own build), its 64 MiB kept from one hash to the
next.

argon2-cffi lets libargon2 malloc the memory of every hash and free it after. 64 MiB is above
glibc's mmap threshold, so each hash maps fresh memory from the kernel, takes 16,384 page
faults (each zeroing a 4 KiB page) and unmaps it again. On the 2-core server that was a fifth
of each hash's CPU time: one hash and one verify took 270 ms, and take 212 ms here, measured
side by side (bench/README.md).

So libargon2's allocation callbacks (argon2_context's allocate_cbk and free_cbk) are handed an
area mapped once and kept for the next hash. The hash itself is libargon2's, unchanged: the
same bytes as argon2-cffi's, and libargon2 wipes the area before it hands it back (its
clear_internal_memory, on by default). The encoded form is argon2-cffi's; what this module does
not write itself (another variant, version or form) is verified by argon2-cffi, as before.

The cost: once used, up to one area per core (64 MiB each) stays mapped while the process runs,
where before each went back to the kernel after its hash.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import hmac
import mmap
import os
import threading
from dataclasses import dataclass
from typing import Any, Literal

from _argon2_cffi_bindings import ffi, lib
from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import (
    HashingError,
    InvalidHashError,
    VerificationError,
    VerifyMismatchError,
)
from argon2.low_level import ARGON2_VERSION, error_to_str


class _Area:
    """One private anonymous mapping, for one hash at a time."""

    def __init__(self, size: int) -> None:
        self.size = size
        # Private: Python's default, a shared mapping, is shmem, which the kernel accounts apart.
        self._map = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self._view = ffi.from_buffer(self._map)
        self.address = int(ffi.cast("uintptr_t", self._view))

    def close(self) -> None:
        ffi.release(self._view)
        self._map.close()


# The largest area kept for the next hash: the bot's own (HASHER, 64 MiB). A larger one, for a
# stored hash of other parameters, goes back to the kernel after its hash, as with argon2-cffi.
LARGEST_KEPT = 64 * 1024 * 1024


class _Areas:
    """The areas of the process: each lent to one hash at a time, and at most `keep` of them
    (none over LARGEST_KEPT) kept idle for the next."""

    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._idle: list[_Area] = []
        self._lent: dict[int, _Area] = {}
        self._lock = threading.Lock()
        # The area lent to this thread's hash in progress, to take back if libargon2 fails
        # after it allocated (it then returns without calling free_cbk).
        self.current = threading.local()

    def lend(self, size: int) -> int:
        with self._lock:
            fitting = [area for area in self._idle if area.size >= size]
            area = min(fitting, key=lambda a: a.size) if fitting else None
            if area is not None:
                self._idle.remove(area)
        if area is None:
            area = _Area(size)  # outside the lock: mapping 64 MiB is quick, but not free
        with self._lock:
            self._lent[area.address] = area
        self.current.address = area.address
        return area.address

    def take_back(self, address: int) -> None:
        self.current.address = None
        with self._lock:
            self._idle.append(self._lent.pop(address))
            # The largest are kept: a small area (a cheaper hasher's) fits no default hash.
            self._idle.sort(key=lambda a: (a.size <= LARGEST_KEPT, a.size), reverse=True)
            kept = [a for a in self._idle[: self._keep] if a.size <= LARGEST_KEPT]
            extra = [a for a in self._idle if a not in kept]
            self._idle = kept
        for area in extra:
            area.close()

    def abandoned(self) -> None:
        """After a failed hash: the area libargon2 allocated and never handed back, if any,
        wiped (it holds blocks derived from the password) and taken back."""
        address = getattr(self.current, "address", None)
        if address is None:
            return
        with self._lock:
            area = self._lent.get(address)
        if area is not None:
            ctypes.memset(address, 0, area.size)
            self.take_back(address)

    def forked(self) -> None:
        # In a child of fork(): another thread may have held the lock, and the hashes that
        # were in flight never end here.
        self._lock = threading.Lock()
        self._lent = {}
        self.current = threading.local()

    @property
    def idle(self) -> int:
        with self._lock:
            return len(self._idle)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_AREAS = _Areas(keep=_cores())
os.register_at_fork(after_in_child=lambda: _AREAS.forked())


def _quiet(*_exc_info: object) -> None:
    # An area that could not be mapped makes argon2_ctx fail with a memory error, which hash
    # and verify raise; the callback has nothing to add on stderr.
    pass


@ffi.callback("int(uint8_t **, size_t)", error=lib.ARGON2_MEMORY_ALLOCATION_ERROR, onerror=_quiet)
def _allocate(memory: Any, size: int) -> int:
    memory[0] = ffi.cast("uint8_t *", _AREAS.lend(size))
    return int(lib.ARGON2_OK)


@ffi.callback("void(uint8_t *, size_t)", onerror=_quiet)
def _free(memory: Any, _size: int) -> None:
    _AREAS.take_back(int(ffi.cast("uintptr_t", memory)))


_UINT32 = 2**32 - 1


@dataclass(frozen=True)
class Costs:
    """Argon2's parameters that a hash carries: passes, memory in KiB, lanes."""

    time_cost: int
    memory_cost: int
    parallelism: int

    def fit(self) -> bool:
        # libargon2's fields are uint32_t.
        return all(0 <= n <= _UINT32 for n in (self.time_cost, self.memory_cost, self.parallelism))


def hash_raw(password: bytes, salt: bytes, costs: Costs, length: int) -> bytes:
    """Argon2id, version 1.3, of `password` with `salt`: `length` bytes, as argon2-cffi's
    hash_secret_raw gives them, computed in a reused area."""
    out = ffi.new("uint8_t[]", length)
    # Copies that live until argon2_ctx returns (the context holds bare pointers to them).
    pwd = ffi.new("uint8_t[]", password)
    salted = ffi.new("uint8_t[]", salt)
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": length,
            "pwd": pwd,
            "pwdlen": len(password),
            "salt": salted,
            "saltlen": len(salt),
            "secret": ffi.NULL,
            "secretlen": 0,
            "ad": ffi.NULL,
            "adlen": 0,
            "t_cost": costs.time_cost,
            "m_cost": costs.memory_cost,
            "lanes": costs.parallelism,
            "threads": costs.parallelism,
            "version": ARGON2_VERSION,
            "allocate_cbk": _allocate,
            "free_cbk": _free,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    _AREAS.current.address = None
    try:
        code = lib.argon2_ctx(context, lib.Argon2_id)  # cffi lets go of the GIL meanwhile
    finally:
        ffi.memmove(pwd, b"\0" * len(password), len(password))
    if code != lib.ARGON2_OK:
        _AREAS.abandoned()
        raise HashingError(error_to_str(code))
    return bytes(ffi.buffer(out, length))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidHashError from None


def encode(salt: bytes, raw: bytes, costs: Costs) -> str:
    """libargon2's (and so argon2-cffi's) encoded form of an Argon2id v1.3 hash."""
    return (
        f"$argon2id$v={ARGON2_VERSION}"
        f"$m={costs.memory_cost},t={costs.time_cost},p={costs.parallelism}"
        f"${_b64(salt)}${_b64(raw)}"
    )


class ReusingPasswordHasher(PasswordHasher):
    """argon2-cffi's PasswordHasher, whose Argon2id v1.3 hashes and checks run in a reused
    area (see the module's text); same parameters, same encoded hashes, same errors."""

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        if self.type is not Type.ID:
            return super().hash(password, salt=salt)
        salt = salt or os.urandom(self.salt_len)
        costs = Costs(self.time_cost, self.memory_cost, self.parallelism)
        return encode(
            salt, hash_raw(_bytes(password, self.encoding), salt, costs, self.hash_len), costs
        )

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        text = hash.decode("ascii", "replace") if isinstance(hash, bytes) else hash
        if not text.isascii():
            raise InvalidHashError  # argon2-cffi's UnicodeEncodeError, which nobody catches
        parts = text.split("$")
        if len(parts) != 6 or parts[1] != "argon2id":
            return super().verify(hash, password)
        parameters = extract_parameters(text)  # InvalidHashError if it is not one
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
        costs = Costs(parameters.time_cost, parameters.memory_cost, parameters.parallelism)
        if not costs.fit() or max(len(salt), len(expected)) > _UINT32:
            raise VerificationError("parameters out of range")  # as argon2-cffi refuses them
        if parameters.version != ARGON2_VERSION or encode(salt, expected, costs) != text:
            # Not in the form this module writes: argon2-cffi reads it as it always did.
            return super().verify(hash, password)
        try:
            computed = hash_raw(_bytes(password, self.encoding), salt, costs, len(expected))
        except HashingError as error:  # a salt or hash libargon2 refuses: as argon2-cffi says
            raise VerificationError(str(error)) from None
        if not hmac.compare_digest(computed, expected):
            raise VerifyMismatchError("The password does not match the supplied hash")
        return True


def _bytes(value: str | bytes, encoding: str) -> bytes:
    return value.encode(encoding) if isinstance(value, str) else value
