"""`python -m bench.probe`: one end-to-end run in a fresh process, for part 4 (memory).

A process of its own, so that its getrusage peak and VmRSS belong to this run alone; tracemalloc
is on during the registrations. Prints the measurements as JSON on stdout.
"""

from __future__ import annotations

import argparse
import json

from bench import e2e
from bench.scenarios import end_to_end


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("--families", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--reply-timeout", type=float, default=60.0)
    args = parser.parse_args()
    config = e2e.Config(
        families=args.families,
        concurrency=args.concurrency,
        database_url=args.database_url,
        reply_timeout=args.reply_timeout,
        verify_links=False,
        trace_memory=True,
    )
    print(json.dumps(end_to_end(config)))


if __name__ == "__main__":
    main()
