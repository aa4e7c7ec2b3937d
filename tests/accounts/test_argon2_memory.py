"""Argon2id in a reused area (bot/accounts/argon2_memory.py): the very hashes argon2-cffi makes
and reads, the area wiped between hashes, and no fresh memory asked of the kernel each time."""

from __future__ import annotations

import ctypes
import os
import resource

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bot.accounts import argon2_memory
from bot.accounts.argon2_memory import ReusingPasswordHasher
from bot.accounts.passwords import HASHER

# Cheap parameters keep the tests quick; the default one is tried once, as the bot uses it.
PARAMETERS = {"time_cost": 2, "memory_cost": 1024, "parallelism": 1}
PASSWORDS = ["Clave-Secreta-2024", "ñandú Ünïcode 漢字 🙂 con espacios", "x" * 128]


@pytest.mark.parametrize("password", PASSWORDS)
def test_the_same_hash_as_argon2_cffi_for_the_same_salt(password: str) -> None:
    salt = os.urandom(16)
    ours = ReusingPasswordHasher(**PARAMETERS)
    library = PasswordHasher(**PARAMETERS)
    assert ours.hash(password, salt=salt) == library.hash(password, salt=salt)


def test_the_bot_s_own_parameters_make_argon2_cffi_s_hash() -> None:
    salt = os.urandom(16)
    library = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
    assert HASHER.hash(PASSWORDS[0], salt=salt) == library.hash(PASSWORDS[0], salt=salt)


@pytest.mark.parametrize("password", PASSWORDS)
def test_each_reads_the_other_s_hashes(password: str) -> None:
    ours = ReusingPasswordHasher(**PARAMETERS)
    library = PasswordHasher(**PARAMETERS)
    assert library.verify(ours.hash(password), password)
    assert ours.verify(library.hash(password), password)
    with pytest.raises(VerifyMismatchError):
        ours.verify(library.hash(password), password + "!")


def test_hashes_of_older_parameters_and_other_variants_still_verify() -> None:
    ours = ReusingPasswordHasher(**PARAMETERS)
    # argon2-cffi's defaults (p=4), as releases before HASHER stored them: read here.
    assert ours.verify(PasswordHasher().hash("clave antigua"), "clave antigua")
    # Argon2i: not this module's, so argon2-cffi reads it.
    argon2i = PasswordHasher(**PARAMETERS, type=Type.I).hash("clave antigua")
    assert ours.verify(argon2i, "clave antigua")
    with pytest.raises(VerifyMismatchError):
        ours.verify(argon2i, "otra clave")


def test_broken_hashes_are_refused_as_argon2_cffi_refuses_them() -> None:
    ours = ReusingPasswordHasher(**PARAMETERS)
    good = ours.hash("clave de prueba")
    head, _, digest = good.rpartition("$")
    for broken in (
        "",
        "no es un hash",
        head + "$",  # no digest
        head + "$" + "!" * len(digest),  # not base64
        good.replace("m=1024", "m=abc"),
        good.replace("$v=19", ""),  # no version: argon2-cffi reads it as 1.0, which it is not
    ):
        with pytest.raises((InvalidHashError, VerificationError)):
            ours.verify(broken, "clave de prueba")


def test_the_area_is_wiped_and_kept_for_the_next_hash() -> None:
    # 64 MiB, as the bot hashes: glibc keeps smaller blocks itself (its mmap threshold grows up
    # to 32 MiB), so only at this size does argon2-cffi map and fault in fresh memory each time
    # (16,384 faults a hash), which is what the reused area saves.
    ours = ReusingPasswordHasher(time_cost=1, memory_cost=64 * 1024, parallelism=1)
    ours.hash("clave de prueba")
    areas = argon2_memory._AREAS
    kept = [area for area in areas._idle if area.size >= 64 * 1024 * 1024]
    assert kept
    for area in kept:  # libargon2 wipes what the hash left before it hands the area back
        assert bytes(area._map) == bytes(area.size)
    faults = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
    ours.hash("otra clave de prueba")
    assert resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - faults < 256
    assert {area.address for area in kept} & {area.address for area in areas._idle}


def test_no_more_areas_are_kept_than_cores() -> None:
    areas = argon2_memory._Areas(keep=2)
    lent = [areas.lend(4096 * (n + 1)) for n in range(4)]
    for address in lent:
        areas.take_back(address)
    assert areas.idle == 2
    # The largest stay: a small one fits no bigger hash.
    assert sorted(area.size for area in areas._idle) == [3 * 4096, 4 * 4096]


@pytest.mark.parametrize(
    "change", [("m=1024", "m=-1"), ("m=1024", f"m={2**32}"), ("t=2", "t=-1"), ("p=1", f"p={2**32}")]
)
def test_parameters_out_of_range_are_not_verified_rather_than_crashing(
    change: tuple[str, str],
) -> None:
    # A stored hash damaged or tampered with: the caller (PasswordHashing.matches) catches
    # argon2's errors only, and must answer "wrong password", never crash the login.
    ours = ReusingPasswordHasher(**PARAMETERS)
    broken = ours.hash("clave de prueba").replace(*change)
    with pytest.raises(VerificationError):
        ours.verify(broken, "clave de prueba")


def test_a_hash_with_other_letters_than_ascii_is_invalid() -> None:
    ours = ReusingPasswordHasher(**PARAMETERS)
    with pytest.raises(InvalidHashError):
        ours.verify(ours.hash("clave de prueba").replace("m=1024", "m=١٠٢٤"), "clave de prueba")


def test_an_area_larger_than_the_bot_s_own_is_given_back_after_its_hash() -> None:
    # A stored hash of larger parameters (older, or forged) costs its memory while it is
    # checked, as with argon2-cffi, and not for as long as the process runs.
    larger = PasswordHasher(time_cost=1, memory_cost=70_000, parallelism=1)
    stored = larger.hash("clave de prueba")
    assert ReusingPasswordHasher(**PARAMETERS).verify(stored, "clave de prueba")
    assert all(area.size <= argon2_memory.LARGEST_KEPT for area in argon2_memory._AREAS._idle)


def test_an_area_left_by_a_failed_hash_is_wiped_and_taken_back() -> None:
    # libargon2 returns without free_cbk when a lane's thread cannot start: as its allocation
    # callback would, the area is lent to this thread and filled, then the hash "fails".
    areas = argon2_memory._Areas(keep=1)
    address = areas.lend(4096)
    ctypes.memset(address, 0xAB, 4096)
    areas.abandoned()
    (area,) = areas._idle
    assert area.address == address and bytes(area._map) == bytes(4096)
    areas.abandoned()  # nothing lent any more: nothing to do
    assert areas.idle == 1
