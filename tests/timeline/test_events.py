"""Which request an email belongs to, where its bar starts and ends, and reset.

Times are given by hand (seconds), so every placement is checked exactly.
An email or job belongs to the request whose code inserted it: the tests say
so as database.py's trigger (`cause`) or the worker's log ("wrote") would.
"""

from __future__ import annotations

from workshop.timeline.events import Event, Seen, Timeline


def email(key: str, status: str) -> Seen:
    final = status in ("sent", "failed")
    return Seen("email", key, f"email {key}", status, None, final)


def test_an_email_belongs_to_the_request_that_inserted_it() -> None:
    """Two requests running tasks at once: the cause decides, not the time."""
    timeline = Timeline()
    first = timeline.arrive("POST", "/subscribers", at=0.0)
    first.response_sent = 0.004
    first.events.append(Event("task", "send_welcome_email", 0.004))
    second = timeline.arrive("POST", "/subscribers", at=0.01)
    second.response_sent = 0.014
    second.events.append(Event("task", "send_welcome_email", 0.014))
    timeline.cause("email", "1", first)  # the latest busy request: not its
    timeline.observe([email("1", "sending")], now=0.02, since=0.0)
    assert [e.name for e in first.events] == ["send_welcome_email", "email 1"]
    assert [e.name for e in second.events] == ["send_welcome_email"]


def test_a_row_no_request_caused_is_drawn_apart_and_says_so() -> None:
    timeline = Timeline()
    request = timeline.arrive("POST", "/subscribers", at=0.0)
    timeline.observe([email("1", "sending")], now=0.2, since=0.1)
    assert request.events == []
    apart = timeline.to_json(now=0.3)["apart"]
    assert [e["name"] for e in apart["events"][1:]] == ["email 1"]
    assert "not attributed" in apart["reading"]
    timeline.reset()
    assert timeline.to_json(now=0.4)["apart"] is None


def test_a_change_is_placed_between_two_looks() -> None:
    """Seen 'sending' then 'sent': each change at the middle of its interval."""
    timeline = Timeline()
    request = timeline.arrive("POST", "/subscribers", at=0.0)
    timeline.cause("email", "1", request)
    timeline.observe([email("1", "sending")], now=0.5, since=0.25)
    timeline.observe([email("1", "sent")], now=1.5, since=1.0)
    (bar,) = request.events
    assert (bar.start, bar.end, bar.status) == (0.375, 1.25, "sent")
    assert bar.phases == [("sending", 0.375), ("sent", 1.25)]


def test_begun_and_done_between_two_looks_spans_the_interval() -> None:
    timeline = Timeline()
    request = timeline.arrive("POST", "/subscribers", at=0.0)
    timeline.cause("email", "1", request)
    timeline.observe([email("1", "sent")], now=0.3, since=0.1)
    (bar,) = request.events
    assert (bar.start, bar.end) == (0.1, 0.3)


def test_an_email_first_seen_after_the_response_starts_after_it() -> None:
    """Not seen when the response started: so never drawn inside the request."""
    timeline = Timeline()
    request = timeline.arrive("POST", "/subscribers", at=0.0)
    request.response_sent = 0.05
    timeline.cause("email", "1", request)
    timeline.observe([email("1", "sending")], now=0.06, since=0.0)
    assert request.events[0].start == 0.05


def test_nothing_is_drawn_on_a_request_for_rows_it_did_not_write() -> None:
    timeline = Timeline()
    request = timeline.arrive("GET", "/outbox", at=0.0)
    timeline.finish(request, at=0.01)
    timeline.observe([email("1", "sending")], now=0.2, since=0.1)
    assert request.events == []
    assert not timeline.busy()


def test_reset_keeps_the_requests_in_flight() -> None:
    timeline = Timeline()
    done = timeline.arrive("GET", "/subscribers", at=0.0)
    timeline.finish(done, at=0.01)
    running = timeline.arrive("POST", "/subscribers", at=0.02)
    timeline.cause("email", "1", running)
    timeline.observe([email("1", "sending")], now=0.04, since=0.03)
    timeline.reset()
    timeline.observe([email("1", "sent")], now=1.5, since=1.0)
    requests = timeline.to_json(now=2.0)["requests"]
    assert [r["id"] for r in requests] == [running.id]
    (bar,) = running.events  # the same bar, finished: not a second one
    assert (bar.status, bar.end) == ("sent", 1.25)


def test_an_email_seen_during_a_task_starts_with_it_at_the_earliest() -> None:
    timeline = Timeline()
    request = timeline.arrive("POST", "/subscribers", at=0.0)
    request.response_sent = 0.25
    request.events.append(Event("task", "send_welcome_email", 0.5))
    timeline.cause("email", "1", request)
    timeline.observe([email("1", "sending")], now=0.625, since=0.125)
    assert request.events[-1].start == 0.5


# --- step 8: jobs sent to a Celery worker -------------------------------------


def test_a_job_sent_to_the_worker_moves_at_the_worker_times() -> None:
    """Queued in the request, running and done when the worker says so."""
    timeline = Timeline()
    request = timeline.arrive("POST", "/digests", at=0.0)
    timeline.queued(request, "task-1", "send_digest", at=0.002)
    request.response_sent = 0.004
    timeline.finish(request, at=0.005)
    assert timeline.waiting_on_worker() and not timeline.busy()
    timeline.worker_seen("task-1", "running", at=1.0, error=None)
    assert timeline.worker_running()
    timeline.worker_seen("other", "running", at=1.1, error=None)  # not ours: ignored
    timeline.worker_seen("task-1", "done", at=2.0, error=None)
    (bar,) = request.events
    assert (bar.kind, bar.name, bar.start, bar.end) == (
        "worker",
        "worker: send_digest",
        0.002,
        2.0,
    )
    assert bar.phases == [("queued", 0.002), ("running", 1.0), ("done", 2.0)]
    assert not timeline.waiting_on_worker()


def test_an_email_belongs_to_the_request_whose_job_runs_in_the_worker() -> None:
    """Step 8: the worker sends the digest while the learner polls GET /jobs."""
    timeline = Timeline()
    digest = timeline.arrive("POST", "/digests", at=0.0)
    timeline.queued(digest, "task-1", "send_digest", at=0.002)
    digest.response_sent = 0.004
    timeline.finish(digest, at=0.005)
    timeline.worker_seen("task-1", "running", at=1.0, error=None)
    poll = timeline.arrive("GET", "/jobs/1", at=1.05)  # still in its handler
    timeline.worker_seen("task-1", "wrote", at=1.1, error=None, name="email 1")
    timeline.observe([email("1", "sending")], now=1.2, since=0.9)
    assert [e.name for e in digest.events] == ["worker: send_digest", "email 1"]
    assert digest.events[1].start == 1.05  # not before the worker started it
    assert poll.events == []


def test_a_failed_job_in_the_worker_keeps_its_error() -> None:
    timeline = Timeline()
    request = timeline.arrive("POST", "/digests", at=0.0)
    timeline.queued(request, "t", "send_digest", at=0.001)
    timeline.worker_seen("t", "running", at=0.5, error=None)
    timeline.worker_seen("t", "failed", at=0.7, error="MailError: bounced")
    (bar,) = request.events
    assert (bar.status, bar.end, bar.error) == ("failed", 0.7, "MailError: bounced")


def test_a_worker_row_read_before_its_queued_bar_is_kept() -> None:
    """A fast worker (Redis): its row may be read before the loop notes the send."""
    timeline = Timeline()
    request = timeline.arrive("POST", "/digests", at=0.0)
    timeline.worker_seen("t", "running", at=0.003, error=None)
    timeline.queued(request, "t", "send_digest", at=0.002)
    (bar,) = request.events
    assert bar.phases == [("queued", 0.002), ("running", 0.003)]
    assert timeline.worker_running()


def test_an_email_of_a_job_done_between_two_looks_is_the_job_s() -> None:
    """Nobody watching: the next look comes with a GET, after the job ended."""
    timeline = Timeline()
    digest = timeline.arrive("POST", "/digests", at=0.0)
    timeline.queued(digest, "t", "send_digest", at=0.002)
    digest.response_sent = 0.004
    timeline.finish(digest, at=0.005)
    poll = timeline.arrive("GET", "/jobs/1", at=5.0)  # in its handler
    timeline.worker_seen("t", "running", at=1.0, error=None)
    timeline.worker_seen("t", "wrote", at=1.5, error=None, name="email 1")
    timeline.worker_seen("t", "done", at=2.0, error=None)
    timeline.observe([email("1", "sent")], now=5.01, since=0.005)
    assert [e.name for e in digest.events] == ["worker: send_digest", "email 1"]
    assert poll.events == []


def test_a_second_digest_s_job_is_its_own_while_the_first_runs() -> None:
    """Step 8: the job row is inserted by the handler, not by the worker."""
    timeline = Timeline()
    first = timeline.arrive("POST", "/digests", at=0.0)
    timeline.queued(first, "t1", "send_digest", at=0.002)
    first.response_sent = 0.004
    timeline.finish(first, at=0.005)
    timeline.worker_seen("t1", "running", at=1.0, error=None)
    second = timeline.arrive("POST", "/digests", at=1.1)  # in its handler
    job = Seen("job", "j2", "job j2", "pending", None, False)
    timeline.cause("job", "j2", second)
    timeline.worker_seen("t1", "wrote", at=1.1, error=None, name="email 1")
    timeline.observe([job, email("1", "sending")], now=1.2, since=1.05)
    assert [e.name for e in second.events] == ["job j2"]
    assert [e.name for e in first.events] == ["worker: send_digest", "email 1"]


# --- step 9: a job delivered again after its worker died -----------------------


def test_a_redelivered_job_shows_its_lost_run_and_its_second_run() -> None:
    timeline = Timeline()
    request = timeline.arrive("POST", "/digests", at=0.0)
    timeline.queued(request, "t", "send_digest", at=0.002)
    request.response_sent = 0.004
    timeline.finish(request, at=0.005)
    timeline.worker_seen("t", "running", at=1.0, error=None)  # killed: no end
    timeline.worker_seen("t", "running", at=9.0, error=None)  # delivered again
    timeline.worker_seen("t", "done", at=10.0, error=None)
    (bar,) = request.events
    assert bar.phases == [
        ("queued", 0.002),
        ("lost", 1.0),
        ("running", 9.0),
        ("done", 10.0),
    ]
    text = timeline.to_json(now=11.0)["requests"][0]["reading"]
    assert "send_digest was delivered again (1 run never finished" in text
    assert "ran in the worker, 9.0 s after the response" in text
    assert "waits" not in text


# --- a blocked event loop ----------------------------------------------------------


def test_a_stall_is_on_the_requests_waiting_and_the_one_read_just_after() -> None:
    timeline = Timeline()
    waiting = timeline.arrive("GET", "/subscribers", at=0.0)
    answered = timeline.arrive("GET", "/outbox", at=0.0)
    answered.response_sent = 0.01
    timeline.stalled(0.5, 1.5, "notify_admin of #1")
    after = timeline.arrive("GET", "/subscribers", at=1.51)
    later = timeline.arrive("GET", "/subscribers", at=3.0)
    for request, end in ((waiting, 1.6), (after, 1.52), (later, 3.01)):
        request.response_sent = end
    assert waiting.stalls == after.stalls == [(0.5, 1.5, "notify_admin of #1")]
    assert answered.stalls == later.stalls == []
    rows = {r["id"]: r["reading"] for r in timeline.to_json(now=4.0)["requests"]}
    assert rows[waiting.id].startswith(
        "client waited 1600 ms, 1.0 s of it while notify_admin of #1 blocked"
    )
    assert "had blocked the event loop for 1.0 s just before" in rows[after.id]
    # sent during the block, it waited until the block ended: at most 1.0 s more
    assert (
        "sent it meanwhile waited until then, up to that long more" in (rows[after.id])
    )
    assert rows[later.id] == "client waited 10 ms"
