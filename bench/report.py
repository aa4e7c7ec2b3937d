"""The results as a readable table (the JSON file holds the same numbers and more)."""

from __future__ import annotations

from typing import Any


def _n(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, float):
        text = f"{value:,.{digits}f}"
    else:
        text = f"{value:,}"
    return f"{text}{unit}"


def _short(text: str, length: int = 110) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def _row(label: str, *cells: str, width: int = 38, cell: int = 20) -> str:
    return f"  {label:<{width}}" + "".join(f"{c:>{cell}}" for c in cells)


def _machine(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    c = results["config"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    quota = f", cgroup quota {m['cpu_quota']:g} CPUs" if m.get("cpu_quota") else ""
    return [
        f"Machine: {m['implementation']} {m['python']} on {m['platform']}",
        f"         {m['cpu_count']} CPUs ({m['cpus_usable']} usable{quota}), "
        f"{_n(m['memory_total_mib'], 0)} MiB RAM, {m['cpu_model'] or 'unknown CPU'}",
        f"         {packages}",
        f"Run:     {c['families']} families paced at {c['think_seconds']:g} s (about "
        f"{c['families'] / max(c['think_seconds'], 1e-9):.0f} updates/s), "
        f"{c['throughput_families']} at once for the throughput, "
        f"{c.get('sustained_lanes', '?')} lanes for {c.get('sustained_seconds', '?')} s sustained; "
        "bot's database: "
        f"{c['database']}; bot's rate limiter {'on' if c['rate_limiter'] else 'off'}"
        f"{'; --quick' if c['quick'] else ''}",
    ]


def _validators(results: dict[str, Any]) -> list[str]:
    lines = ["", "1. Pure validators (best of 3 timed batches)", _row("", "calls/s", "µs/call")]
    for name, found in results["validators"].items():
        lines.append(
            _row(name, _n(found["calls_per_second"], 0), _n(found["microseconds_per_call"], 1))
        )
    first = results["validators"]["find_country, exact name"].get("first_call_ms")
    lines.append(f"  (the first find_country call builds the country index: {_n(first, 0)} ms)")
    return lines


def _ms3(summary: dict[str, Any]) -> str:
    if not summary.get("count"):
        return "n/a"
    return " / ".join(_n(summary[k], 0 if summary[k] >= 10 else 1) for k in ("p50", "p95", "p99"))


def _ratio(bare: float | None, bot: float | None) -> str:
    if not bare or bot is None:
        return ""
    return f"{bot / bare:.1f}×"


def _argon2(results: dict[str, Any]) -> list[str]:
    a = results["argon2_bound"]
    p = a["parameters"]
    return [
        "",
        f"2. Argon2id, as the bot hashes (t={p['time_cost']}, m={p['memory_cost_kib'] // 1024} "
        f"MiB, p={p['parallelism']})",
        _row(
            "CPU time of a hash / a verify",
            f"{_n(a['hash_cpu_ms'], 0)} / {_n(a['verify_cpu_ms'], 0)} ms",
        ),
        _row("wall time of a hash", f"{_n(a['hash_wall_ms'], 0)} ms"),
        _row(
            f"bound: {a['cores']} cores ÷ (hash + verify)",
            f"{_n(a['registrations_per_second'])} reg/s",
        ),
        *_library(a),
    ]


def _library(a: dict[str, Any]) -> list[str]:
    # Runs before the reused area (bot/accounts/argon2_memory.py) have no such figure.
    library = a.get("argon2_cffi")
    if library is None:
        return []
    return [
        _row(
            "argon2-cffi's own PasswordHasher: hash / verify",
            f"{_n(library['hash_cpu_ms'], 0)} / {_n(library['verify_cpu_ms'], 0)} ms, "
            f"bound {_n(library['registrations_per_second'])} reg/s",
        )
    ]


PHASES = (
    ("paced_before_email", "paced, the steps before the e-mail (no password)"),
    ("burst", "a burst: every family sends its e-mail at once"),
    ("paced_rest", "paced, the rest (e-mail again, 2 password steps, check, account)"),
    ("throughput", "throughput: whole registrations, all at once"),
    ("sustained", "sustained: whole registrations, one after another in each lane"),
)


def _side_by_side(results: dict[str, Any], r: dict[str, Any]) -> list[str]:
    bare, bot = r["bare"], r["bot"]
    lines = [_row("", "bare framework", "this bot", "ratio", width=42, cell=20)]

    def row(label: str, a: str, b: str, ratio: str = "") -> None:
        lines.append(_row(label, a, b, ratio, width=42, cell=20))

    for key, title in PHASES:
        x, y = bare[key], bot[key]
        lines.append(f"  {title}:")
        row(
            "    updates, in s",
            f"{x['updates']} in {_n(x['seconds'])}",
            f"{y['updates']} in {_n(y['seconds'])}",
        )
        row(
            "    CPU time per update (ms)",
            _n(x["cpu_ms_per_update"], 2),
            _n(y["cpu_ms_per_update"], 2),
            _ratio(x["cpu_ms_per_update"], y["cpu_ms_per_update"]),
        )
        loop_x = x.get("cpu_ms_per_update_by_thread", {}).get("event loop")
        loop_y = y.get("cpu_ms_per_update_by_thread", {}).get("event loop")
        row(
            "    of it, the event loop's thread",
            _n(loop_x, 2),
            _n(loop_y, 2),
            _ratio(loop_x, loop_y),
        )
        row(
            "    CPU, share of one core",
            _n(x["cpu_share_of_a_core"], 2),
            _n(y["cpu_share_of_a_core"], 2),
        )
        row(
            "    the families' and stand-in's share",
            _n(x.get("generator_cpu_share_of_a_core"), 2),
            _n(y.get("generator_cpu_share_of_a_core"), 2),
        )
        row(
            "    reply latency p50/p95/p99 (ms)",
            _ms3(x["reply_latency_ms"]),
            _ms3(y["reply_latency_ms"]),
            _ratio(x["reply_latency_ms"].get("p99"), y["reply_latency_ms"].get("p99")),
        )
        row(
            "    event loop's longest stall (ms)",
            _n(x["longest_loop_stall_ms"], 1),
            _n(y["longest_loop_stall_ms"], 1),
        )
        spent = y.get("longest_loop_stall_spent")
        if spent:  # runs before it did not read it
            lines.append(
                "      the bot's longest, spent: running {running_ms:.1f} ms, waiting for a core "
                "{waiting_for_a_core_ms:.1f} ms, stolen by the host {host_stole_ms:.0f} ms "
                "(the rest asleep: on the GIL, most likely)".format(**spent)
            )
        if "machine_steal_ms" in y:  # runs before it did not read it
            row(
                "    vCPU time stolen by the host (ms)",
                _n(x["machine_steal_ms"], 0),
                _n(y["machine_steal_ms"], 0),
            )
        if key in ("throughput", "sustained"):
            row(
                "    registrations per second",
                _n(x["registrations_per_second"], 2),
                _n(y["registrations_per_second"], 2),
            )
        if key == "sustained" and "bounds_around" in y:
            before, after = (b["registrations_per_second"] for b in y["bounds_around"])
            lines.append(f"    Argon2id bound read just before / after: {before:.2f} / {after:.2f}")
        if key == "sustained" and y.get("hashing_share_of_all_cpu") is not None:
            lines.append(
                "    the hashing threads' share of all the CPU used (the bot's and the families'): "
                f"{y['hashing_share_of_all_cpu']:.0%}"
            )
        for run, name in ((x, "bare"), (y, "bot")):
            for failure in run["failures"][:2]:
                lines.append(f"    ! {name}: {_short(failure)}")
            for error in run["first_handler_errors"][:2]:
                lines.append(f"    ! {name}, handler error: {_short(error)}")
    lines.append("  password steps, paced (p50/p95/p99 ms):")
    for label in ("8 password (Argon2 hash)", "9 password again (Argon2 verify)"):
        row(
            "    " + label[:40],
            _ms3(bare["paced_rest"]["reply_latency_ms_by_step"].get(label, {})),
            _ms3(bot["paced_rest"]["reply_latency_ms_by_step"].get(label, {})),
        )
    mx, my = bare["memory"], bot["memory"]
    lines.append(f"  memory, {my['conversations_in_progress']} conversations in progress:")
    row(
        "    RSS with them (MiB)",
        _n(mx["rss_with_them_kib"] / 1024),
        _n(my["rss_with_them_kib"] / 1024),
    )
    row(
        "    per conversation in progress (KiB)",
        _n(mx["kib_per_conversation"], 1),
        _n(my["kib_per_conversation"], 1),
    )
    row(
        "    peak RSS of the process (MiB)",
        _n((bare["peak_rss_kib"] or 0) / 1024),
        _n((bot["peak_rss_kib"] or 0) / 1024),
    )
    return lines


def targets(results: dict[str, Any], r: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, what was measured, met) for one round."""
    bare, bot = r["bare"], r["bot"]
    x, y = bare["paced_before_email"], bot["paced_before_email"]
    cpu = y["cpu_ms_per_update"] / x["cpu_ms_per_update"] if x["cpu_ms_per_update"] else 99.0
    p99x, p99y = x["reply_latency_ms"].get("p99", 0.0), y["reply_latency_ms"].get("p99", 9e9)
    stall = max(bot[k]["longest_loop_stall_ms"] for k, _ in PHASES)
    # The bound read around the sustained phase itself, where the run has it (see
    # sidebyside.measure); runs before it had only the one read at the start.
    bound = bot["sustained"].get(
        "bound_registrations_per_second", results["argon2_bound"]["registrations_per_second"]
    )
    rate = bot["sustained"]["registrations_per_second"]
    at_once = bot["throughput"]["registrations_per_second"]
    kib = bot["memory"]["kib_per_conversation"]
    return [
        (
            "CPU per update, steps without a password: ≤ 2× the baseline's",
            f"{cpu:.1f}×",
            cpu <= 2.0,
        ),
        (
            f"p99 reply latency at {r['bot']['memory']['conversations_in_progress']} paced "
            "families: ≤ 3× the baseline's and < 25 ms",
            f"{p99y:.1f} ms, {p99y / p99x if p99x else 99:.1f}×",
            p99y < 25.0 and p99y <= 3 * p99x,
        ),
        (
            "event loop's longest stall ≤ 50 ms, password hashing included",
            f"{stall:.1f} ms",
            stall <= 50.0,
        ),
        (
            "registrations/s, sustained, ≥ 80% of the Argon2id bound",
            f"{rate:.2f} of {bound:.2f}/s = {rate / bound:.0%} (all at once: {at_once:.2f}/s = "
            f"{at_once / bound:.0%})",
            rate >= 0.8 * bound,
        ),
        (
            "memory < 20 KiB per conversation in progress",
            "n/a" if kib is None else f"{kib:.1f} KiB",
            kib is not None and kib < 20.0,
        ),
    ]


def render(results: dict[str, Any]) -> str:
    rounds = results["rounds"]
    lines = [*_machine(results), *_validators(results), *_argon2(results)]
    for number, r in enumerate(rounds, 1):
        lines += [
            "",
            f"3. Side by side, round {number} of {len(rounds)} (baseline first, then the bot)",
        ]
        lines += _side_by_side(results, r)
    lines += ["", "4. Targets (last round)"]
    for target, measured, met in targets(results, rounds[-1]):
        lines.append(f"  {'met    ' if met else 'NOT MET'}  {target}: {measured}")
    lines += ["", f"Total benchmark time: {_n(results['seconds'])} s"]
    return "\n".join(lines)
