"""`python -m bench.ocr` (or `python -m bench --ocr`): what reading a photo of a document costs.

The real worker process (bot.documents.reader) reads photos drawn by bot.devtools.specimens:
seconds per photo by kind, the time its model takes to load, and the worker's memory (VmRSS and
its peak, VmHWM, from /proc). Apart from the main benchmark: its numbers belong to one process
the bot starts beside itself. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from bench.stats import summary_ms
from bot.devtools.specimens import (
    Holder,
    document_photo,
    id_card_zone,
    no_document_photo,
    passport_zone,
)
from bot.documents.mrz import Mrz
from bot.documents.reader import DocumentReader, ReaderSettings, ocr_installed

HOLDER = Holder()

PHOTOS = {
    "passport": lambda: document_photo(passport_zone(HOLDER)),
    "passport, tilted and blurred": lambda: document_photo(
        passport_zone(HOLDER), angle=-6, blur=1.8
    ),
    "ID card": lambda: document_photo(id_card_zone(HOLDER), width=1000),
    "wrong check digit": lambda: document_photo(passport_zone(HOLDER, spoil=True)),
    "no document": no_document_photo,
}


def _memory_mib(pid: int) -> dict[str, float]:
    found: dict[str, float] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return found


async def measure(rounds: int = 5) -> dict[str, Any]:
    if not ocr_installed():
        return {"error": "rapidocr or onnxruntime is not installed"}
    reader = DocumentReader(ReaderSettings(timeout_seconds=120))
    started = time.perf_counter()
    try:
        if not await reader.ready():
            return {"error": "the OCR could not be loaded"}
        load_seconds = time.perf_counter() - started
        (pid,) = reader.worker_pids
        after_load = _memory_mib(pid)
        kinds: dict[str, Any] = {}
        for kind, draw in PHOTOS.items():
            photo = draw()
            seconds, verified = [], 0
            for _ in range(rounds):
                began = time.perf_counter()
                read = await reader.read(photo)
                seconds.append(time.perf_counter() - began)
                verified += isinstance(read, Mrz)
            kinds[kind] = {
                "bytes": len(photo),
                "ms": summary_ms(seconds),
                "verified": f"{verified}/{rounds}",
            }
        return {
            "model_load_seconds": load_seconds,
            "worker_memory_after_load_mib": after_load,
            "worker_memory_after_reads_mib": _memory_mib(pid),
            "photos": kinds,
        }
    finally:
        await reader.close()


def render(results: dict[str, Any]) -> str:
    if "error" in results:
        return f"OCR: {results['error']}"
    after_load = results["worker_memory_after_load_mib"]
    after = results["worker_memory_after_reads_mib"]
    lines = [
        "Reading a photo of a document (one OCR worker process, one core)",
        f"  model load: {results['model_load_seconds']:.2f} s",
        f"  worker memory: {after_load.get('VmRSS', float('nan')):.0f} MiB after loading, "
        f"{after.get('VmRSS', float('nan')):.0f} MiB after reading "
        f"(peak {after.get('VmHWM', float('nan')):.0f} MiB)",
        f"  {'photo':<30} {'bytes':>7} {'p50 s':>7} {'max s':>7} {'verified':>9}",
    ]
    for kind, found in results["photos"].items():
        ms = found["ms"]
        lines.append(
            f"  {kind:<30} {found['bytes']:>7} {ms['p50'] / 1000:>7.2f} {ms['max'] / 1000:>7.2f} "
            f"{found['verified']:>9}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ocr", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5, help="reads of each photo (default 5)")
    parser.add_argument("--out", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    results = asyncio.run(measure(max(1, args.rounds)))
    print(render(results), flush=True)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nJSON: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
