"""`python -m bench` (or `make bench`): the bot side by side with a bare python-telegram-bot
baseline under the same paced families; prints a table with the ratios and the targets, and
writes the same as JSON under bench/results/.

Nothing here fails on a slow machine: every number is reported, and a target not met is
printed as such, not raised.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import machine, micro, report, sidebyside

RESULTS = Path(__file__).resolve().parent / "results"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="The bot's cost per update, latency, loop stalls, registrations per second "
        "and memory, side by side with a bare python-telegram-bot Application.",
    )
    parser.add_argument("--families", type=int, default=None, help="paced families (200)")
    parser.add_argument(
        "--think",
        type=float,
        default=None,
        help="mean seconds between a reply and the next answer (10: 200 families make ~20 "
        "updates a second)",
    )
    parser.add_argument(
        "--throughput", type=int, default=None, help="families of the throughput phase (40)"
    )
    parser.add_argument(
        "--lanes",
        type=int,
        default=None,
        help="families registering at once, one after another, in the sustained phase (16)",
    )
    parser.add_argument(
        "--sustained",
        type=float,
        default=None,
        help="seconds of the sustained phase that are counted (30)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="baseline then bot, this often")
    parser.add_argument(
        "--database-url",
        default=None,
        help="DATABASE_URL for the bot (sqlite:///... or postgresql://...); default: a new "
        "SQLite file in a temporary folder for each process",
    )
    parser.add_argument(
        "--rate-limiter",
        action="store_true",
        help="keep the bot's AIORateLimiter (Telegram's ~30 messages/s); off by default",
    )
    parser.add_argument(
        "--explain-stalls",
        action="store_true",
        help="read where the longest stall's time went (running, waiting for a core, stolen "
        "by the host, asleep); costs each process ~30 µs a tick, so off by default",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few families")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="record the bot with py-spy during the first paced phase (collapsed stacks)",
    )
    parser.add_argument("--out", type=Path, default=None, help="the JSON file to write")
    parser.add_argument("--reply-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    quick = args.quick
    if args.families is None:
        args.families = 6 if quick else 200
    if args.think is None:
        args.think = 0.2 if quick else 10.0
    if args.throughput is None:
        args.throughput = 3 if quick else 40
    if args.lanes is None:
        args.lanes = 3 if quick else 16
    if args.sustained is None:
        args.sustained = 3.0 if quick else 30.0
    if min(args.families, args.throughput, args.rounds, args.lanes) < 1 or args.think < 0:
        parser.error("--families, --throughput, --lanes and --rounds must be at least 1")
    if args.sustained <= 0:
        parser.error("--sustained must be more than 0")
    return args


def _shown_url(url: str | None) -> str:
    if url is None:
        return "SQLite, a new temporary file per process"
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _progress(text: str) -> None:
    print(f"… {text}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    load = sidebyside.Load(
        families=args.families,
        think=args.think,
        throughput=args.throughput,
        lanes=args.lanes,
        sustained=args.sustained,
        settle=1.0 if args.quick else 8.0,
        warmup=1 if args.quick else 4,
        database_url=args.database_url,
        rate_limiter=args.rate_limiter,
        explain_stalls=args.explain_stalls,
        reply_timeout=args.reply_timeout,
        profile=args.profile,
    )
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine.facts(),
        "config": {
            "families": load.families,
            "think_seconds": load.think,
            "throughput_families": load.throughput,
            "sustained_lanes": load.lanes,
            "sustained_seconds": load.sustained,
            "rounds": args.rounds,
            "database": _shown_url(args.database_url),
            "rate_limiter": load.rate_limiter,
            "quick": args.quick,
        },
    }
    _progress("pure validators")
    results["validators"] = micro.validators(0.08 if args.quick else 0.5)
    _progress("Argon2id: CPU time of a hash and a verify")
    results["argon2_bound"] = sidebyside.bound(2 if args.quick else 10)
    rounds = []
    for number in range(1, args.rounds + 1):
        round_result: dict[str, Any] = {}
        for kind in ("bare", "bot"):
            _progress(f"round {number}: {kind}, {load.families} families paced at {load.think} s")
            round_result[kind] = asyncio.run(sidebyside.measure(kind, load))
        rounds.append(round_result)
    results["rounds"] = rounds
    results["seconds"] = time.perf_counter() - started
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    given = sys.argv[1:] if argv is None else argv
    if "--ocr" in given:
        # Reading photos of documents is measured on its own (bench/ocr.py).
        from bench import ocr

        ocr.main([a for a in given if a != "--ocr"])
        return {}
    args = _arguments(argv)
    results = run(args)
    print(report.render(results), flush=True)
    out = args.out or RESULTS / f"{results['when'].replace(':', '')[:17]}.json"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
        print(f"\nJSON: {out}")
    except OSError as error:
        print(f"\ncould not write {out}: {error}", file=sys.stderr)
    return results


if __name__ == "__main__":
    main()
