"""`python -m bench` (or `make bench`): measures, prints a table, and writes the same as JSON.

Nothing here fails on a slow machine: every number is reported, none is asserted.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import e2e, machine, micro, report
from bench.scenarios import end_to_end, quiet_logs
from bench.stats import max_rss_mib, vm_rss_mib

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = Path(tempfile.gettempdir()) / "ninez-migrante-bench" / "latest.json"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Speed and memory of the bot: validators, Argon2id, whole registrations "
        "end to end against the Bot API stand-in, and memory per family in flight.",
    )
    parser.add_argument(
        "--families", type=int, default=None, help="families per end-to-end run (default 50)"
    )
    parser.add_argument(
        "--concurrency", type=int, default=None, help="families at a time (default 10)"
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="DATABASE_URL to run against (sqlite:///... or postgresql://...); "
        "default: a new SQLite file in a temporary folder for each run",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a smoke run: 5 families, 2 at a time, few iterations"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"where to write the JSON results (default {DEFAULT_OUT})",
    )
    parser.add_argument(
        "--reply-timeout",
        type=float,
        default=60.0,
        help="seconds a simulated family waits for each reply before counting as failed",
    )
    args = parser.parse_args(argv)
    if args.families is None:
        args.families = 5 if args.quick else 50
    if args.concurrency is None:
        args.concurrency = 2 if args.quick else 10
    if args.families < 1 or args.concurrency < 1:
        parser.error("--families and --concurrency must be at least 1")
    args.concurrency = min(args.concurrency, args.families)
    return args


def _shown_url(url: str | None) -> str:
    if url is None:
        return "SQLite, a new temporary file per run"
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _progress(text: str) -> None:
    print(f"… {text}", file=sys.stderr, flush=True)


def _probe(args: argparse.Namespace, concurrency: int) -> dict[str, Any]:
    """One end-to-end run in a fresh process (its own peak RSS), tracemalloc on."""
    command = [
        sys.executable,
        "-m",
        "bench.probe",
        f"--families={args.families}",
        f"--concurrency={concurrency}",
        f"--reply-timeout={args.reply_timeout}",
    ]
    if args.database_url:
        command.append(f"--database-url={args.database_url}")
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        return {"concurrency": concurrency, "error": f"exit {done.returncode}: {tail}"}
    result["process_seconds"] = seconds
    return result


def _per_family_in_flight(one: dict[str, Any], many: dict[str, Any]) -> dict[str, Any]:
    if "error" in one or "error" in many:
        return {}
    extra = many["most_families_in_flight"] - one["most_families_in_flight"]
    if extra <= 0:
        return {}
    low, high = one["memory"], many["memory"]

    def per_family(key: str) -> float | None:
        if low.get(key) is None or high.get(key) is None:
            return None
        return (high[key] - low[key]) * 1024 / extra

    return {
        "families_in_flight": [one["most_families_in_flight"], many["most_families_in_flight"]],
        "tracemalloc_peak_kib": per_family("tracemalloc_peak_mib"),
        "peak_rss_kib": per_family("peak_rss_during_registrations_mib"),
        "rss_after_kib": per_family("rss_after_registrations_mib"),
    }


def main(argv: list[str] | None = None) -> None:
    if "--ocr" in (sys.argv[1:] if argv is None else argv):
        # Reading photos of documents is measured on its own (bench/ocr.py).
        from bench import ocr

        ocr.main([a for a in (sys.argv[1:] if argv is None else argv) if a != "--ocr"])
        return
    args = _arguments(argv)
    quiet_logs()
    started = time.perf_counter()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.facts(),
        "config": {
            "families": args.families,
            "concurrency": args.concurrency,
            "database": _shown_url(args.database_url),
            "quick": args.quick,
        },
        "process_memory": {"rss_at_start_mib": vm_rss_mib()},
    }

    _progress("pure validators")
    results["validators"] = micro.validators(0.08 if args.quick else 0.5)

    def config(families: int, concurrency: int) -> e2e.Config:
        return e2e.Config(
            families=families,
            concurrency=concurrency,
            database_url=args.database_url,
            reply_timeout=args.reply_timeout,
        )

    _progress(f"end to end: {args.families} families, {args.concurrency} at a time")
    results["e2e"] = end_to_end(config(args.families, args.concurrency))
    results["process_memory"]["rss_after_e2e_mib"] = vm_rss_mib()
    results["process_memory"]["ru_maxrss_after_e2e_mib"] = max_rss_mib()

    _progress("end to end again, with python-telegram-bot's rate limiter off")
    results["e2e_no_rate_limiter"] = end_to_end(
        config(args.families, args.concurrency), rate_limiter=False
    )

    _progress("Argon2id")
    results["argon2"] = micro.argon2(3 if args.quick else 20, args.concurrency)
    results["process_memory"]["ru_maxrss_after_argon2_mib"] = max_rss_mib()

    probes = {}
    for concurrency in dict.fromkeys((1, args.families)):
        _progress(f"memory: {args.families} families, {concurrency} at a time, own process")
        probes[str(concurrency)] = _probe(args, concurrency)
    results["memory_probes"] = probes
    results["memory_per_family_in_flight"] = _per_family_in_flight(
        probes["1"], probes[str(args.families)]
    )
    results["process_memory"]["rss_at_end_mib"] = vm_rss_mib()
    results["process_memory"]["ru_maxrss_mib"] = max_rss_mib()
    results["seconds"] = time.perf_counter() - started

    print(report.render(results), flush=True)
    out = args.out or DEFAULT_OUT
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"\nJSON: {out}")
    except OSError as error:
        print(f"\ncould not write {out}: {error}", file=sys.stderr)


if __name__ == "__main__":
    main()
