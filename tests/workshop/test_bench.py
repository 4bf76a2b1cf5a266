"""Tests of `workshop bench`: its options, statistics, claims and report.

No timing is asserted here: the numbers belong in docs/BENCHMARKS.md. The
smoke tests only prove that the pieces work together against real servers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import statistics
from pathlib import Path

import pytest

from workshop.bench import Settings, add_arguments, settings
from workshop.bench import report as bench_report
from workshop.bench.queue import Delivery, queue_claims
from workshop.bench.scenarios import (
    Fact,
    Flood,
    Options,
    Result,
    ceiling_claims,
    response_claims,
    trap_claims,
)
from workshop.bench.stats import Summary, at_least, at_most, median, percentile, ratio
from workshop.course.overhead_bench import overhead_claim
from workshop.errors import WorkshopError

ROOT = Path(__file__).resolve().parents[2]
INFO = {
    "cores": 2,
    "cpu": "Test CPU",
    "python": "3.11.7",
    "system": "Linux",
    "load_average": [1.0, 2.0, 3.0],
}


def parse(*argv: str) -> Settings:
    parser = argparse.ArgumentParser()
    add_arguments(parser, "bench")
    return settings(parser.parse_args(list(argv)))


def summary(label: str, p50: float, p95: float | None = None) -> Summary:
    return Summary(label, 100, 0, p50, p95 or p50, p95 or p50, 50.0)


# --- options ----------------------------------------------------------------


def test_defaults_are_small_and_run_the_lessons_scenarios() -> None:
    """The learner's bench answers the lesson's three questions; what the tool
    itself costs (the timeline's overhead) is the authors', asked for by name."""
    chosen = parse()
    assert (chosen.requests, chosen.concurrency, chosen.delay) == (200, 10, 1.0)
    assert chosen.scenarios == ("response", "trap", "ceiling")
    assert not chosen.json and not chosen.loop


def test_scenarios_by_name_letter_or_list_in_a_fixed_order() -> None:
    assert parse("--scenario", "c", "--scenario", "response").scenarios == (
        "response",
        "ceiling",
    )
    assert parse("--scenario", "b,a,b").scenarios == ("response", "trap")
    assert parse("--scenario", "d").scenarios == ("overhead",)


def test_response_rate_is_half_the_ceiling_unless_given() -> None:
    assert parse().rate is None
    assert Options(delay=0.5).response_rate == 40
    assert Options(rate=0).response_rate == 0  # unpaced
    assert parse("--rate", "12.5").rate == 12.5
    with pytest.raises(WorkshopError, match="--rate"):
        parse("--rate", "fast")


def test_numbers_are_parsed() -> None:
    chosen = parse("--requests", "7", "--concurrency", "3", "--delay", "0.25")
    assert (chosen.requests, chosen.concurrency, chosen.delay) == (7, 3, 0.25)
    assert parse("--time-limit", "2", "--runs", "3").runs == 3
    assert (parse().slots, parse("--slots", "160").slots) == (80, 160)


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["--requests", "0"], "--requests"),
        (["--requests", "ten"], "--requests"),
        (["--requests", "2.5"], "--requests"),
        (["--concurrency", "-1"], "--concurrency"),
        (["--delay", "0"], "--delay"),
        (["--delay", "nan"], "--delay"),
        (["--delay", "inf"], "--delay"),
        (["--time-limit", "x"], "--time-limit"),
        (["--runs", "0"], "--runs"),
        (["--slots", "0"], "--slots"),
        (["--scenario", "speed"], "unknown scenario 'speed'"),
    ],
)
def test_bad_values_are_one_clear_error(argv: list[str], names: str) -> None:
    with pytest.raises(WorkshopError, match=names):
        parse(*argv)


@pytest.mark.parametrize(
    "argv",
    [["--requests", "abc"], ["--delay", "-1"], ["--scenario", "x"]],
)
def test_command_line_bad_value_is_one_line_and_exit_2(
    run_workshop, tmp_path: Path, argv: list[str]
) -> None:
    code, stdout, stderr = run_workshop("bench", *argv, cwd=tmp_path)
    assert code == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert stderr.startswith("workshop: ")


# --- statistics -------------------------------------------------------------


def test_percentiles_of_known_values() -> None:
    values = list(range(1, 101))  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 100
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    assert percentile([7.0], 99) == 7.0


def test_percentiles_match_the_standard_library() -> None:
    rng = random.Random(7)
    values = [rng.expovariate(10) for _ in range(257)]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for p in (1, 25, 50, 95, 99):
        assert percentile(values, p) == pytest.approx(cuts[p - 1])


def test_percentile_rejects_no_values_and_bad_ranks() -> None:
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)


def test_summary_of_latencies() -> None:
    result = Summary.of("run", [0.3, 0.1, 0.2, 0.4], elapsed=2.0, errors=1)
    assert (result.count, result.errors) == (4, 1)
    assert result.p50 == pytest.approx(0.25)
    assert result.throughput == pytest.approx(2.0)
    with pytest.raises(ValueError, match="no request completed"):
        Summary.of("empty", [], elapsed=1.0)


def test_ratio_and_claims() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(1.0, 0.0) == math.inf
    assert ratio(0.0, 0.0) == 1.0
    assert at_most("x", 1.2, 1.2).holds
    assert not at_most("x", 1.21, 1.2).holds
    assert at_least("x", 1.0, 1.0).holds
    assert not at_least("x", 0.99, 1.0).holds


# --- the claims of each scenario ---------------------------------------------


def test_response_claims() -> None:
    inline, fast, base = summary("0", 1.004), summary("1", 0.011), summary("b", 0.010)
    holds = [c.holds for c in response_claims(inline, fast, base, delay=1.0)]
    assert holds == [True, True, True]
    slow_step_1 = summary("1", 0.013)  # 1.3x the baseline
    holds = [c.holds for c in response_claims(inline, slow_step_1, base, 1.0)]
    assert holds == [True, False, True]
    not_waiting = summary("0", 0.5)  # step 0 answered before the email was sent
    holds = [c.holds for c in response_claims(not_waiting, fast, base, 1.0)]
    assert holds == [False, True, True]
    claims = response_claims(inline, fast, base, delay=0.05)  # 11 ms > 10 % of 50
    assert [c.holds for c in claims] == [True, True, False]


def test_trap_claims() -> None:
    idle, in_thread, blocked = summary("i", 0.01), summary("d", 0.014), summary("b", 1)
    assert [c.holds for c in trap_claims(idle, in_thread, blocked, 1.0)] == [True] * 2
    stalled_thread = summary("d", 0.016)
    claims = trap_claims(idle, stalled_thread, summary("b", 0.2), 1.0)
    assert [c.holds for c in claims] == [False, False]


def flood(kind: str, emails_per_second: float, posts_per_second: float, peak: int):
    posts = Summary(kind, 200, 0, 0.01, 0.5, 0.9, posts_per_second)
    return Flood(kind, 200, 200, peak, 40, 200 / emails_per_second, posts)


def test_overhead_claim_takes_the_median_of_the_runs() -> None:
    """One noisy run does not decide: the middle ratio of three does."""
    assert overhead_claim([1.05, 3.0, 1.1]).holds
    assert overhead_claim([1.05, 3.0, 1.1]).measured == 1.1
    assert not overhead_claim([1.3, 1.25, 1.0]).holds


def test_ceiling_claims() -> None:
    threads, loop = flood("def", 39.0, 49.0, 40), flood("async", 150.0, 400.0, 190)
    assert threads.per_second == pytest.approx(39.0)
    assert [c.holds for c in ceiling_claims(threads, loop, 1.0)] == [True] * 4
    # More than 40 threads' worth, async held back, the endpoint not held back:
    too_fast = flood("def", 60.0, 61.0, 41)
    held = flood("async", 50.0, 400.0, 59)
    assert [c.holds for c in ceiling_claims(too_fast, held, 1.0)] == [False] * 4
    # With a shorter delay the ceiling rises: 40 threads / 0.5 s = 80 emails/s.
    assert ceiling_claims(too_fast, held, 0.5)[0].holds


def delivery(per_second: float, emails: int = 240) -> Delivery:
    return Delivery(emails, emails, emails / per_second)


def test_queue_claims_step_8_against_step_1() -> None:
    step1, step8 = summary("1", 0.150, 0.600), summary("8", 0.040, 0.500)
    web, worker = delivery(37.0), delivery(67.0, 480)
    holds = [c.holds for c in queue_claims(step1, step8, web, worker, 1.0, 80)]
    assert holds == [True, True, True]
    # step 8 waits as step 1 does; the web past its ceiling; the worker no faster
    slow_step_8, too_fast_web = summary("8", 0.100), delivery(45.0)
    claims = queue_claims(step1, slow_step_8, too_fast_web, delivery(60.0), 1.0, 80)
    assert [c.holds for c in claims] == [False, False, False]
    # the worker is held to its slots: 40 slots need 0.75x the web's, not 1.5x
    assert queue_claims(step1, step8, web, delivery(30.0), 1.0, 40)[2].holds
    assert not queue_claims(step1, step8, web, delivery(30.0), 1.0, 80)[2].holds


def forced_queue_run(monkeypatch, step1: Summary, step8: Summary) -> Result:
    """queue() with its measurements replaced by the figures given."""
    from workshop.bench import queue as bench_queue

    async def responses(*_args) -> list[Summary]:
        return [step1, step8]

    async def deliveries(*_args) -> tuple[Delivery, Delivery]:
        return delivery(37.0), Delivery(480, 470, 7.0)

    monkeypatch.setattr(bench_queue, "redis_namespace", contextlib.nullcontext)
    monkeypatch.setattr(bench_queue, "responses", responses)
    monkeypatch.setattr(bench_queue, "deliveries", deliveries)
    return asyncio.run(bench_queue.queue(Options(), ROOT, ROOT))


def test_a_queue_claim_that_does_not_hold_is_printed_as_such(monkeypatch) -> None:
    """Forced figures: step 8 answers as slowly as step 1 (0.90x, claim 0.50x)."""
    step1 = Summary("step 1", 200, 0, 0.100, 0.300, 0.400, 30.0)
    step8 = Summary("step 8", 200, 0, 0.090, 0.600, 0.700, 33.0)
    result = forced_queue_run(monkeypatch, step1, step8)
    lines = bench_report.text(Options(), [result], INFO).splitlines()
    assert (
        "  the web process no longer waits: step 8 p50 / step 1 p50 = 0.90x  "
        "(claim <= 0.50x): DOES NOT HOLD"
    ) in lines
    assert "  step 8 p95 / step 1 p95: 2.00x" in lines
    assert "  one worker, 80 slots: 470/480 emails in 7.00 s: 67.1 emails/s" in lines
    assert (
        "  one worker, 80 slots: emails/s / the web process's emails/s = 1.81x  "
        "(claim >= 1.50x): HOLDS"
    ) in lines
    notes = [line for line in lines if line.startswith("  note: ")]
    assert "30 emails in flight on average, fewer than its 40 threads" in notes[0]
    assert "the worker sent 470 of 480 emails in time" in notes[1]
    assert lines[-1] == "2 of 3 claims hold on this machine."


def test_strict_exits_1_on_a_claim_that_does_not_hold_and_prints_the_load(
    monkeypatch, capsys
) -> None:
    from workshop.bench import runner

    step1 = Summary("step 1", 200, 0, 0.100, 0.300, 0.400, 30.0)
    step8 = Summary("step 8", 200, 0, 0.090, 0.600, 0.700, 33.0)
    forced = forced_queue_run(monkeypatch, step1, step8)

    async def queue(*_args) -> Result:
        return forced

    monkeypatch.setattr("workshop.bench.queue.queue", queue)
    monkeypatch.setattr(bench_report, "load_average", lambda: [3.5, 2.0, 1.25])
    monkeypatch.chdir(ROOT)
    strict = parse("--scenario", "queue", "--strict")
    assert runner.main(strict) == 1
    out = capsys.readouterr().out
    assert "DOES NOT HOLD" in out
    assert "note: load average 3.5, 2.0, 1.25 before, 3.5, 2.0, 1.25 after" in out
    assert runner.main(parse("--scenario", "queue")) == 0  # printed, not fatal


def test_load_note_is_unknown_without_a_load_average() -> None:
    from workshop.bench.runner import load_note

    assert load_note([0.5, 1.0, 2.0], [1.5, 1.0, 2.0]) == (
        "load average 0.5, 1.0, 2.0 before, 1.5, 1.0, 2.0 after (1, 5, 15 min)"
    )
    assert load_note([], []) == "load average: unknown on this system"


# --- report -----------------------------------------------------------------


def results() -> list[Result]:
    result = Result("trap", "The trap", "What is measured. " * 8)
    result.runs = [
        Summary("idle", 200, 0, 0.0097, 0.0203, 0.0296, 823.7),
        Summary("blocking", 40, 1, 1.5034, 2.0023, 2.0028, 6.7),
    ]
    result.facts = [Fact("def tasks: 200/200 emails in 5.08 s", 39.37, "emails/s")]
    result.claims = [at_most("def / idle", 1.06, 1.5), at_least("blk / d", 0.3, 0.8)]
    result.notes = ["a note"]
    return [result]


def test_text_report_has_the_table_facts_and_verdicts() -> None:
    out = bench_report.text(Options(), results(), INFO)
    lines = out.splitlines()
    assert "200 requests per run, concurrency 10, mail delay 1 s" in lines[0]
    assert lines[1] == (
        "machine: 2 cores, Test CPU, Python 3.11.7, load average 1.0, 2.0, 3.0"
    )
    assert "b) The trap" in lines
    assert all(len(line) <= 92 for line in lines if "What is" in line)
    row = next(line for line in lines if line.lstrip().startswith("blocking"))
    assert row.split() == ["blocking", "40", "1", "1503.4", "2002.3", "2002.8", "6.7"]
    assert "  def tasks: 200/200 emails in 5.08 s: 39.4 emails/s" in lines
    assert "  def / idle = 1.06x  (claim <= 1.50x): HOLDS" in lines
    assert "  blk / d = 0.30x  (claim >= 0.80x): DOES NOT HOLD" in lines
    assert "  note: a note" in lines
    assert lines[-1] == "1 of 2 claims hold on this machine."


def test_json_report_is_machine_readable_and_finite() -> None:
    found = results()
    found[0].claims.append(at_most("zero baseline", math.inf, 1.2))
    data = json.loads(bench_report.as_json(Options(requests=5), found, INFO))
    assert data["options"]["requests"] == 5
    assert data["options"]["response_rate"] == 20  # auto: 40 threads / 2 / 1 s
    scenario = data["scenarios"][0]
    assert scenario["name"] == "trap"
    assert scenario["runs"][1]["p50"] == pytest.approx(1.5034)
    assert [c["holds"] for c in scenario["claims"]] == [True, False, False]
    assert scenario["claims"][2]["measured"] is None


def test_report_formats_milliseconds_and_ratios() -> None:
    assert bench_report.ms(0.0123) == "12.3"
    assert bench_report.times(1.234) == "1.23x"
    assert bench_report.times(150.0) == "150x"
    assert bench_report.times(math.inf) == "inf"


# --- smoke: real servers, tiny counts, no timing asserted -------------------

TINY_APP = """\
import os

from fastapi import BackgroundTasks, FastAPI

app = FastAPI()
sent: list[str] = []


@app.post("/subscribers", status_code=201)
def subscribe(new: dict, background_tasks: BackgroundTasks) -> dict:
    background_tasks.add_task(sent.append, new["email"])
    return {"email": new["email"], "delay": float(os.environ["MAIL_DELAY"])}
"""


def test_smoke_drive_a_tiny_app_under_uvicorn(tmp_path: Path) -> None:
    from workshop.bench.load import client, drive
    from workshop.bench.scenarios import checkpoint_server, subscriber

    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "app" / "main.py").write_text(TINY_APP, encoding="utf-8")

    async def go():
        with checkpoint_server(tmp_path, delay=0.5) as server:
            async with client(server.url, 2) as http:
                return await drive(
                    http, subscriber, requests=6, concurrency=2, time_limit=30
                )

    samples = asyncio.run(go())
    assert (len(samples.latencies), samples.errors) == (6, 0)
    assert samples.summary("tiny").count == 6


@pytest.mark.parametrize("kind", ["def", "async"])
def test_smoke_flood_counts_every_delivery_on_checkpoint_2(kind: str) -> None:
    from workshop.bench.scenarios import flood as run_flood

    step2 = ROOT / "checkpoints" / "step-2"
    options = Options(requests=5, concurrency=2, delay=0.01)
    result = asyncio.run(run_flood(options, step2, kind))
    assert (result.sent, result.delivered, result.threads) == (5, 5, 40)
    assert 0 <= result.peak_in_flight <= 5
    assert result.posts.count == 5


def test_smoke_step_8_against_step_1_in_one_run() -> None:
    """The queue comparison on real checkpoints 1 and 8, a worker and Redis:
    every part ran and every email arrived; no figure is asserted."""
    from workshop.bench.queue import queue, redis_namespace

    try:
        with redis_namespace():
            pass
    except WorkshopError as error:
        if os.environ.get("REDIS_URL"):
            raise
        pytest.skip(str(error))
    step1, step8 = ROOT / "checkpoints" / "step-1", ROOT / "checkpoints" / "step-8"
    options = Options(requests=6, concurrency=2, delay=0.01, slots=2)
    result = asyncio.run(queue(options, step1, step8))
    assert [r.label.split(",")[0] for r in result.runs] == ["step 1", "step 8"]
    assert [r.count for r in result.runs] == [6, 6]
    sent = [f.label for f in result.facts if f.unit == "emails/s"]
    assert "step 1's web process, 40 threads: 240/240 emails" in sent[0]
    assert "one worker, 2 slots: 12/12 emails" in sent[1]
    assert len(result.claims) == 3


def test_server_that_cannot_start_is_one_clear_error(tmp_path: Path) -> None:
    from workshop.bench.server import Server

    with (
        pytest.raises(WorkshopError, match="did not start"),
        Server("nowhere.main:app", tmp_path),
    ):
        pass


# --- the learner's loop -----------------------------------------------------


def test_loop_report_shows_medians_beside_the_floor() -> None:
    from workshop.course.loop_bench import IMPORT_FLOOR, Timing, text

    floors = [Timing("floor: python start", [0.02, 0.01, 0.03], [0, 0, 0])]
    floors.append(Timing(IMPORT_FLOOR, [0.5, 0.7, 0.6], [0, 0, 0]))
    loop = [Timing("workshop check 1", [1.0, 3.0, 1.5], [1, 1, 1])]
    out = text(parse("--runs", "3"), floors, loop, INFO).splitlines()
    assert "median of 3 runs" in out[0]
    row = next(line for line in out if line.lstrip().startswith("workshop check 1"))
    assert row.split()[-4:] == ["1.50s", "1.00s", "3.00s", "1"]
    assert "  workshop check 1 / import floor = 2.5x" in out  # 1.5 s / 0.6 s


def test_loop_works_in_a_copy_with_untracked_files_and_no_ignored_ones(
    workshop_repo: Path, tmp_path: Path, git
) -> None:
    from workshop.course.loop_bench import sandbox

    (workshop_repo / "app" / "draft.py").write_text("x = 1\n", encoding="utf-8")
    (workshop_repo / ".workshop").mkdir()
    (workshop_repo / ".workshop" / "hints.json").write_text("{}", encoding="utf-8")
    copy = sandbox(workshop_repo, tmp_path / "copy")
    assert (copy / "app" / "draft.py").read_text(encoding="utf-8") == "x = 1\n"
    assert (copy / "checkpoints" / "step-2" / "app" / "main.py").is_file()
    assert not (copy / ".workshop").exists()
    assert git(copy, "status", "--porcelain") == ""
    assert git(workshop_repo, "status", "--porcelain") == "?? app/draft.py\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--loop", "--step", "9"], "unknown step '9'"),
        (["--scenario", "response"], "not inside the workshop"),
    ],
)
def test_bad_step_or_place_is_one_line_and_exit_2(
    run_workshop, workshop_repo: Path, tmp_path: Path, argv: list[str], message: str
) -> None:
    cwd = workshop_repo if "--loop" in argv else tmp_path / "nowhere"
    cwd.mkdir(exist_ok=True)
    code, stdout, stderr = run_workshop("bench", *argv, cwd=cwd)
    assert code == 2
    assert stdout == ""
    assert len(stderr.strip().splitlines()) == 1
    assert message in stderr
