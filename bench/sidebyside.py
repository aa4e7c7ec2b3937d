"""The side-by-side run: the same paced families, through the same Bot API stand-in, first against
the bare baseline (`bench.bare`), then against the bot, each in a process of its own
(`bench.botproc`) whose CPU time and memory are read from /proc.

The phases, for each process in turn:

1. warm-up: a few families register from start to end (first hash, catalogs, caches);
2. paced, the steps before the e-mail (6 updates a family, none with a password): `families`
   families, each answering on average `think` seconds after the bot's reply, about
   families/think updates a second in all; then every family is in the middle of its form,
   which is when the memory per conversation in progress is read;
3. a burst: every family sends its e-mail address at the same moment;
4. paced, the rest (the e-mail again, the two password steps, the human check, the account);
5. throughput: `throughput` new families register from start to end as fast as they can, all
   at once: registrations per second, against the bound Argon2id sets (see `bound`);
6. sustained: `lanes` lanes each register new families one after another, as fast as replies
   come, and once they are under way the registrations finished in `sustained` seconds are
   counted. Started all at once (phase 5), families move in step: first every one of them
   needs only the event loop, then every one a hash, and the two cores take turns being idle;
   here their steps are spread out, as a steady stream of families would spread them, so this
   is the rate the machine keeps up, and the one the target reads.

The load generator and the stand-in run in this process, on the same cores: their work is not
counted in the bot's CPU time, but they compete with it for the machine (every phase reports
this process's own share of a core, as `generator_cpu_share_of_a_core`).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher

from bench.e2e import PASSWORD, Step, steps, take_step
from bench.machine import steal_seconds
from bench.stats import summary_ms
from bot.accounts.passwords import HASHER
from bot.devtools.local_telegram import LocalBotApi, LocalUser

BEFORE_EMAIL = slice(0, 6)
EMAIL = 6
REST = slice(7, None)


@dataclass(frozen=True)
class Load:
    families: int = 200
    think: float = 10.0  # mean seconds between a reply and the family's next answer
    throughput: int = 40  # families of the throughput phase
    warmup: int = 4
    seed: int = 11
    database_url: str | None = None
    rate_limiter: bool = False
    reply_timeout: float = 60.0
    profile: Path | None = None  # py-spy's samples of the bot during phase 2
    first_phases_only: bool = False  # warm-up and phase 2 only: for profiling
    lanes: int = 16  # families registering at once, one after another, in phase 6
    sustained: float = 30.0  # seconds of phase 6 that are counted
    settle: float = 8.0  # seconds phase 6 runs before they are
    explain_stalls: bool = False  # where the longest stall's time went (bench.botproc._Clocks)


def _proc_stat(pid: int) -> tuple[float, float]:
    """(utime + stime in seconds of all the process's threads, RSS in KiB)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # fields 14 and 15 of proc(5)
    rss_kib = 0.0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss_kib = float(line.split()[1])
    return cpu, rss_kib


def _threads_cpu(pid: int) -> dict[str, float]:
    """CPU seconds by thread (its id and name): the event loop's thread apart from SQLite's
    (aiosqlite runs one per connection) and from the pools' (hashing, the default executor)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            text = (task / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        name = text.partition("(")[2].rpartition(")")[0]
        fields = text.rpartition(")")[2].split()
        found[f"{task.name} {name}"] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def _by_kind(before: dict[str, float], after: dict[str, float], main: str) -> dict[str, float]:
    kinds: dict[str, float] = {}
    for key, seconds in after.items():
        name = key.partition(" ")[2]
        # A pool's threads are one kind: "argon2_0" and "argon2_1" are "argon2".
        kind = "event loop" if key.partition(" ")[0] == main else re.sub(r"[_-]\d+$", "", name)
        kinds[kind] = kinds.get(kind, 0.0) + seconds - before.get(key, 0.0)
    return kinds


def _peak_rss_kib(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return float(line.split()[1])
    return None


class Measured:
    """The process under measurement, spoken to over its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.pid = process.pid

    async def ask(self, command: str) -> dict[str, Any]:
        if self.process.stdin is None or self.process.stdout is None:
            raise RuntimeError("the measured process has no pipes")
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()
        line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the measured process ended (exit code {self.process.returncode})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.ask("stop"), timeout=15)
                await asyncio.wait_for(self.process.wait(), timeout=15)
            except (TimeoutError, RuntimeError):
                self.process.kill()
                await self.process.wait()


async def _start(kind: str, api: LocalBotApi, load: Load) -> Measured:
    command = [
        sys.executable,
        "-m",
        "bench.botproc",
        f"--kind={kind}",
        f"--token={api.token}",
        f"--base-url={api.base_url}",
    ]
    if load.database_url:
        command.append(f"--database-url={load.database_url}")
    if load.rate_limiter:
        command.append("--rate-limiter")
    if load.explain_stalls:
        command.append("--explain-stalls")
    process = await asyncio.create_subprocess_exec(
        *command, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    measured = Measured(process)
    if process.stdout is None:
        raise RuntimeError("no stdout")
    line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
    if not line or not json.loads(line).get("ready"):
        raise RuntimeError(f"the {kind} process did not start: {line!r}")
    return measured


class Phase:
    """One phase's figures: CPU and memory of the measured process from its start to its end,
    the event loop's longest stall, and the latency of every reply."""

    def __init__(self, name: str, measured: Measured, api: LocalBotApi) -> None:
        self.name = name
        self.measured = measured
        self.api = api
        self.latencies: list[float] = []
        self.by_step: dict[str, list[float]] = {}
        self.failures: list[str] = []
        self.active = False

    async def __aenter__(self) -> Phase:
        await self.measured.ask("mark")
        self._requests = len(self.api.requests)
        self._cpu, self._rss = _proc_stat(self.measured.pid)
        self._threads = _threads_cpu(self.measured.pid)
        self._own = _own_cpu()
        self._steal = steal_seconds()
        self._started = time.perf_counter()
        self.active = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.active = False
        self.seconds = time.perf_counter() - self._started
        self.own_cpu_seconds = _own_cpu() - self._own
        self.steal_seconds = steal_seconds() - self._steal
        cpu, rss = _proc_stat(self.measured.pid)
        self.threads = _by_kind(
            self._threads, _threads_cpu(self.measured.pid), str(self.measured.pid)
        )
        self.cpu_seconds = cpu - self._cpu
        self.rss_before_kib, self.rss_after_kib = self._rss, rss
        self.loop = await self.measured.ask("read")
        calls = Counter(m for m, _ in self.api.requests[self._requests :] if m != "getUpdates")
        self.calls = dict(calls.most_common())

    def record(self, step: Step, seconds: float) -> None:
        if not self.active:
            return  # a step of the sustained phase's lanes before or after its measured time
        self.latencies.append(seconds)
        self.by_step.setdefault(step.label, []).append(seconds)

    def result(self) -> dict[str, Any]:
        updates = len(self.latencies)
        return {
            "updates": updates,
            "seconds": self.seconds,
            "updates_per_second": updates / self.seconds if self.seconds else 0.0,
            "cpu_seconds": self.cpu_seconds,
            "cpu_ms_per_update": self.cpu_seconds * 1000 / updates if updates else None,
            "cpu_ms_per_update_by_thread": {
                k: v * 1000 / updates for k, v in self.threads.items() if updates and v > 0
            },
            "cpu_share_of_a_core": self.cpu_seconds / self.seconds if self.seconds else 0.0,
            "generator_cpu_share_of_a_core": (
                self.own_cpu_seconds / self.seconds if self.seconds else 0.0
            ),
            "reply_latency_ms": summary_ms(self.latencies),
            "reply_latency_ms_by_step": {k: summary_ms(v) for k, v in self.by_step.items()},
            "longest_loop_stall_ms": self.loop["longest_stall_ms"],
            "longest_loop_stall_spent": self.loop.get("longest_stall", {}),
            "machine_steal_ms": self.steal_seconds * 1000,
            "rss_before_kib": self.rss_before_kib,
            "rss_after_kib": self.rss_after_kib,
            "bot_api_calls": self.calls,
            "failures": self.failures[:5],
            "failure_count": len(self.failures),
            "handler_errors": self.loop["handler_errors"],
            "first_handler_errors": self.loop["first_errors"],
        }


class Family:
    def __init__(self, user: LocalUser, email: str, rng: random.Random) -> None:
        self.user = user
        self.steps = steps(email)
        self.rng = rng
        self.failed = False

    async def go(
        self, phase: Phase, chosen: slice | list[int], think: float, patience: float
    ) -> None:
        """Takes the steps `chosen`, waiting about `think` s before each; stops at a failure."""
        picked = (
            self.steps[chosen] if isinstance(chosen, slice) else [self.steps[i] for i in chosen]
        )
        for step in picked:
            if self.failed:
                return
            if think:
                await asyncio.sleep(self.rng.uniform(0.5, 1.5) * think)
            try:
                phase.record(step, await take_step(self.user, step, patience))
            except (AssertionError, RuntimeError) as error:
                self.failed = True
                phase.failures.append(f"{self.user.id}: {error!s:.300}")


def _own_cpu() -> float:
    """CPU seconds of this process (the families and the stand-in), all its threads."""
    times = os.times()
    return times.user + times.system


async def _sustain(api: LocalBotApi, measured: Measured, load: Load, tag: str) -> dict[str, Any]:
    """Phase 6: `load.lanes` lanes register new families back to back; the registrations
    finished while the phase is measured are counted."""
    first = 10**12 + secrets.randbelow(10**11)
    numbers = iter(range(first, first + 10**9))
    rng = random.Random(load.seed + 3)
    finished: list[float] = []
    going = True
    phase = Phase("sustained", measured, api)

    async def lane(delay: float) -> None:
        await asyncio.sleep(delay)  # spread out from the start
        while going:
            number = next(numbers)
            user = api.user(user_id=number, first_name=f"Familia{number % 1000}")
            family = Family(user, f"familia.{tag}.{number}@gmail.com", rng)
            await family.go(phase, slice(None), 0.0, load.reply_timeout)
            if family.failed:
                return
            finished.append(time.perf_counter())

    # Spread over about one registration's time on a loaded machine, so that the lanes are
    # at different steps from the first.
    lanes = [asyncio.create_task(lane(rng.uniform(0, load.settle / 2))) for _ in range(load.lanes)]
    try:
        await asyncio.sleep(load.settle)
        async with phase:
            started = time.perf_counter()
            await asyncio.sleep(load.sustained)
            ended = time.perf_counter()
    finally:
        going = False
        await asyncio.gather(*lanes, return_exceptions=True)
    done = sum(started <= t < ended for t in finished)
    # The hashing threads' share of all the CPU the phase took (the measured process's and
    # this one's): what the target's ratio would be if the bound were read from these very
    # hashes, so unmoved by the host's speed drifting between the bound's reads and the phase.
    everything = phase.cpu_seconds + phase.own_cpu_seconds
    hashing = phase.threads.get("argon2")
    return {
        **phase.result(),
        "lanes": load.lanes,
        "registrations": done,
        "registrations_per_second": done / (ended - started),
        "hashing_share_of_all_cpu": hashing / everything if hashing and everything else None,
    }


def _families(api: LocalBotApi, count: int, seed: int, tag: str) -> list[Family]:
    first = 10**12 + secrets.randbelow(10**11)
    return [
        Family(
            api.user(user_id=first + i, first_name=f"Familia{i}"),
            f"familia.{tag}.{i}@gmail.com",
            random.Random(seed * 100_003 + i),
        )
        for i in range(count)
    ]


async def _gather(families: list[Family], *args: Any) -> None:
    await asyncio.gather(*(family.go(*args) for family in families))


async def measure(kind: str, load: Load) -> dict[str, Any]:
    """All the phases against one process of `kind` ("bare" or "bot")."""
    tag = secrets.token_hex(4)
    result: dict[str, Any] = {"kind": kind}
    async with LocalBotApi() as api:
        # Fresh update ids: a database given with --database-url may hold earlier runs'.
        api._update_ids = iter(range(time.time_ns() // 1000, 2**62))  # type: ignore[assignment]
        started = time.perf_counter()
        measured = await _start(kind, api, load)
        result["start_seconds"] = time.perf_counter() - started
        profiler: subprocess.Popen[bytes] | None = None
        try:
            warm = _families(api, load.warmup, load.seed + 1, tag + "w")
            async with Phase("warm-up", measured, api) as phase:
                await _gather(warm, phase, slice(None), 0.0, load.reply_timeout)
            result["warmup"] = phase.result()

            families = _families(api, load.families, load.seed, tag)
            if load.profile is not None:
                out = load.profile.with_name(f"{load.profile.stem}-{kind}{load.profile.suffix}")
                profiler = _profile(measured.pid, out)
            async with Phase("paced, before the e-mail", measured, api) as phase:
                await _gather(families, phase, BEFORE_EMAIL, load.think, load.reply_timeout)
            if profiler is not None:
                profiler.send_signal(signal.SIGINT)  # py-spy writes its samples on SIGINT
                profiler.wait(timeout=30)
            result["paced_before_email"] = phase.result()
            in_progress = sum(not f.failed for f in families)
            grown = phase.rss_after_kib - phase.rss_before_kib
            result["memory"] = {
                "conversations_in_progress": in_progress,
                "rss_with_them_kib": phase.rss_after_kib,
                "kib_per_conversation": grown / in_progress if in_progress else None,
            }
            if load.first_phases_only:
                return result

            async with Phase("burst", measured, api) as phase:
                await _gather(families, phase, [EMAIL], 0.0, load.reply_timeout)
            result["burst"] = phase.result()

            async with Phase("paced, the rest", measured, api) as phase:
                await _gather(families, phase, REST, load.think, load.reply_timeout)
            result["paced_rest"] = phase.result()

            racers = _families(api, load.throughput, load.seed + 2, tag + "t")
            async with Phase("throughput", measured, api) as phase:
                await _gather(racers, phase, slice(None), 0.0, load.reply_timeout)
            done = sum(not f.failed for f in racers)
            result["throughput"] = {
                **phase.result(),
                "registrations": done,
                "registrations_per_second": done / phase.seconds if phase.seconds else 0.0,
            }
            # The bound is read again right before and right after the sustained phase, the
            # measured process idle: the machine's speed drifts (other tenants of its host)
            # over the minutes a round takes, and the ratio compares like with like.
            repeats = 2 if load.warmup <= 1 else 10
            before = bound(repeats) if kind == "bot" else None
            sustained = await _sustain(api, measured, load, tag + "s")
            if before is not None:
                after = bound(repeats)
                sustained["bound_registrations_per_second"] = (
                    before["registrations_per_second"] + after["registrations_per_second"]
                ) / 2
                sustained["bounds_around"] = [before, after]
            result["sustained"] = sustained
            result["peak_rss_kib"] = _peak_rss_kib(measured.pid)
        finally:
            if profiler is not None and profiler.poll() is None:
                profiler.kill()
            await measured.stop()
    return result


def _profile(pid: int, out: Path) -> subprocess.Popen[bytes]:
    """py-spy, sampling the bot's threads (the event loop's and the hashing ones)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen(
        [
            str(spy),
            "record",
            "--pid",
            str(pid),
            "--threads",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            "250",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def bound(repeats: int) -> dict[str, Any]:
    """The registrations per second Argon2id allows on this machine: cores ÷ (one hash + one
    verify), in CPU time (libargon2 may run lanes on threads: wall time would undercount), as the
    bot hashes (HASHER: libargon2 in a reused area, bot/accounts/argon2_memory.py); and, for
    comparison with runs before it, as argon2-cffi's own PasswordHasher hashes, same parameters."""
    hasher: PasswordHasher = HASHER
    library = PasswordHasher(
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
    )
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = cores or 1

    def costs(using: PasswordHasher) -> tuple[float, float]:
        stored = using.hash(PASSWORD)  # warms the library (and the reused area) up

        def cpu_of(call: Any) -> float:
            before = _own_cpu()
            for _ in range(repeats):
                call()
            return (_own_cpu() - before) / repeats

        return cpu_of(lambda: using.hash(PASSWORD)), cpu_of(lambda: using.verify(stored, PASSWORD))

    hash_cpu, verify_cpu = costs(hasher)
    library_hash, library_verify = costs(library)
    wall = time.perf_counter()
    hasher.hash(PASSWORD)
    wall = time.perf_counter() - wall
    return {
        "parameters": {
            "time_cost": hasher.time_cost,
            "memory_cost_kib": hasher.memory_cost,
            "parallelism": hasher.parallelism,
        },
        "cores": cores,
        "hash_cpu_ms": hash_cpu * 1000,
        "verify_cpu_ms": verify_cpu * 1000,
        "hash_wall_ms": wall * 1000,
        "registrations_per_second": cores / (hash_cpu + verify_cpu),
        "argon2_cffi": {
            "hash_cpu_ms": library_hash * 1000,
            "verify_cpu_ms": library_verify * 1000,
            "registrations_per_second": cores / (library_hash + library_verify),
        },
    }


async def side_by_side(load: Load) -> dict[str, Any]:
    return {"bare": await measure("bare", load), "bot": await measure("bot", load)}
