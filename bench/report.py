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


def _ms3(summary: dict[str, Any]) -> str:
    if not summary.get("count"):
        return "n/a"
    return " / ".join(_n(summary[k], 0) for k in ("p50", "p95", "p99"))


def _ms2(summary: dict[str, Any]) -> str:
    if not summary.get("count"):
        return "n/a"
    return " / ".join(_n(summary[k], 0) for k in ("p50", "p95"))


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
        f"Run:     {c['families']} families, {c['concurrency']} at a time; database: "
        f"{c['database']}{'; --quick' if c['quick'] else ''}",
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


def _argon2(results: dict[str, Any]) -> list[str]:
    a = results["argon2"]
    p = a["parameters"]
    lines = [
        "",
        f"2. Argon2id (argon2-cffi defaults: t={p['time_cost']}, "
        f"m={p['memory_cost_kib'] // 1024} MiB, p={p['parallelism']})",
        _row("hash", f"{_n(a['hash_ms']['median'])} ms", f"median of {a['hash_ms']['count']}"),
        _row(
            "verify", f"{_n(a['verify_ms']['median'])} ms", f"median of {a['verify_ms']['count']}"
        ),
        _row(
            "CPU time per hash (lanes on threads)", f"{_n(a['cpu_seconds_per_hash'] * 1000, 0)} ms"
        ),
    ]
    for level, rate in a["hashes_per_second_by_concurrency"].items():
        lines.append(_row(f"hashes/s, {level} at a time via to_thread", _n(rate, 1)))
    lines += [
        f"  (asyncio.to_thread's default pool: {a['to_thread_workers']} threads; each hash in "
        f"flight holds {p['memory_cost_kib'] // 1024} MiB)",
        _row(
            "registrations/s Argon2 allows",
            f"{_n(a['registrations_per_second_one_at_a_time'])} serial",
            f"{_n(a['registrations_per_second_all_threads'])} threaded",
        ),
    ]
    return lines


def _e2e(results: dict[str, Any]) -> list[str]:
    runs = [results["e2e"], results["e2e_no_rate_limiter"]]
    r = runs[0]
    lines = [
        "",
        f"3. End to end: {r['families']} families, {r['concurrency']} at a time "
        f"(bot handles updates of {r['bot_updates_at_a_time']} at a time)",
        _row("", "rate limiter on", "rate limiter off"),
    ]

    def each(label: str, cell: Any) -> None:
        lines.append(_row(label, *(cell(run) for run in runs)))

    each("completed / failed", lambda x: f"{x['completed']} / {x['failed']}")
    each("registration wall time", lambda x: f"{_n(x['registration_seconds'])} s")
    each("families per minute", lambda x: _n(x["families_per_minute"], 0))
    each("updates handled per second", lambda x: _n(x["updates_per_second"]))
    each("chat API calls/s (limiter: 30/s)", lambda x: _n(x["chat_calls_per_second"]))
    each("chat API calls per family", lambda x: _n(x["chat_calls_per_family"]))
    each("reply latency p50/p95/p99 ms", lambda x: _ms3(x["reply_latency_ms"]))
    each("verify page p50/p95 ms", lambda x: _ms2(x["verification"]["page_latency_ms"]))
    each(
        "chat notice after verify p50/p95 ms",
        lambda x: _ms2(x["verification"]["chat_notice_latency_ms"]),
    )
    each(
        "links verified",
        lambda x: f"{x['verification']['verified']} / {x['verification']['links']}",
    )
    each("handler errors", lambda x: str(x["handler_error_count"]))
    lines.append("  reply latency by step, p50 / p95 ms:")
    for step in r["reply_latency_ms_by_step"]:
        lines.append(_row("  " + step, *(_ms2(x["reply_latency_ms_by_step"][step]) for x in runs)))
    for run, name in zip(runs, ("limiter on", "limiter off"), strict=True):
        for failure in run["failures"][:3]:
            lines.append(f"  ! {name}: {_short(failure)}")
        for error in run["handler_errors"][:3]:
            lines.append(f"  ! {name}, handler error: {_short(error)}")
    return lines


def _memory(results: dict[str, Any]) -> list[str]:
    pm = results["process_memory"]
    mem = results["e2e"]["memory"]
    lines = [
        "",
        "4. Memory",
        "  this process (MiB):",
        _row("RSS at start (imports)", _n(pm["rss_at_start_mib"])),
        _row("RSS before registrations (bot up)", _n(mem["rss_before_registrations_mib"])),
        _row("RSS after registrations", _n(mem["rss_after_registrations_mib"])),
        _row("peak RSS during registrations", _n(mem["peak_rss_during_registrations_mib"])),
        _row("RSS after verification", _n(mem["rss_after_verification_mib"])),
        _row("ru_maxrss after the end-to-end runs", _n(pm["ru_maxrss_after_e2e_mib"])),
        _row("ru_maxrss after the Argon2 threads", _n(pm["ru_maxrss_after_argon2_mib"])),
    ]
    probes = results["memory_probes"]
    if not probes:
        return lines
    keys = list(probes)
    lines += [
        "  one process per run, tracemalloc on (MiB):",
        _row("", *(f"{k} at a time" for k in keys)),
    ]
    for k in keys:
        if "error" in probes[k]:
            lines.append(f"  ! probe {k} at a time failed: {probes[k]['error']}")
    ok = [probes[k] for k in keys if "error" not in probes[k]]
    if len(ok) != len(keys):
        return lines

    def each(label: str, cell: Any) -> None:
        lines.append(_row(label, *(cell(p) for p in ok)))

    each("families in flight (most)", lambda p: str(p["most_families_in_flight"]))
    each("completed / failed", lambda p: f"{p['completed']} / {p['failed']}")
    each("RSS before registrations", lambda p: _n(p["memory"]["rss_before_registrations_mib"]))
    each(
        "peak RSS during registrations",
        lambda p: _n(p["memory"]["peak_rss_during_registrations_mib"]),
    )
    each("RSS after registrations", lambda p: _n(p["memory"]["rss_after_registrations_mib"]))
    each("tracemalloc peak", lambda p: _n(p["memory"].get("tracemalloc_peak_mib"), 2))
    each(
        "tracemalloc retained at the end",
        lambda p: _n(p["memory"].get("tracemalloc_retained_mib"), 2),
    )
    each("peak RSS of the process (VmHWM)", lambda p: _n(p["memory"]["process_peak_rss_mib"]))
    each("registration wall time (traced)", lambda p: f"{_n(p['registration_seconds'])} s")
    per = results.get("memory_per_family_in_flight") or {}
    if per:
        low, high = per["families_in_flight"]
        lines += [
            f"  per extra family in flight, ({high} at a time - {low} at a time) / {high - low}:",
            _row("  tracemalloc peak", f"{_n(per['tracemalloc_peak_kib'], 1)} KiB"),
            _row("  RSS after registrations", f"{_n(per['rss_after_kib'], 1)} KiB"),
            _row("  peak RSS during registrations", f"{_n(per['peak_rss_kib'], 1)} KiB"),
        ]
    return lines


def render(results: dict[str, Any]) -> str:
    lines = [
        *_machine(results),
        *_validators(results),
        *_argon2(results),
        *_e2e(results),
        *_memory(results),
        "",
        f"Total benchmark time: {_n(results['seconds'])} s",
    ]
    return "\n".join(lines)
