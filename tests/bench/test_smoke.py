"""A smoke run of `make bench` (a few families), so the benchmark cannot rot: both processes
start, every family gets every reply, and the table and the JSON are written. No number is
asserted: speed is the benchmark's business, not the tests'."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main


def test_a_quick_run_measures_both_processes_through_every_phase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "results.json"

    results = main(
        ["--quick", "--families", "3", "--throughput", "2", "--lanes", "2", "--out", str(out)]
    )

    (last,) = results["rounds"]
    for kind in ("bare", "bot"):
        for phase in ("paced_before_email", "burst", "paced_rest", "throughput", "sustained"):
            measured = last[kind][phase]
            assert measured["failure_count"] == 0, measured["failures"]
            assert measured["handler_errors"] == 0, measured["first_handler_errors"]
            assert measured["updates"] > 0 and measured["cpu_seconds"] >= 0
        assert last[kind]["throughput"]["registrations"] == 2
        # Two lanes for 3 s: the baseline registers dozens, the bot at least one.
        assert last[kind]["sustained"]["registrations"] >= 1
        assert last[kind]["memory"]["conversations_in_progress"] == 3
    assert json.loads(out.read_text())["rounds"][0]["bot"]["kind"] == "bot"
    table = capsys.readouterr().out
    assert "this bot" in table and "Targets" in table
