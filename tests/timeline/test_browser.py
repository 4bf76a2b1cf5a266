"""In a real browser, with the network cut: /docs works, the timeline tells the truth.

Playwright drives the system's Chromium (Debian's `chromium` package; no
browser is downloaded). Every request that leaves the machine is blocked and
counted, and every console error is collected: each test ends with none of
either. Screenshots go to screenshots/ (git-ignored) for the docs; the ones
in docs/img/ were taken with TIMELINE_TEST_DELAY=1 (the lesson's mail delay).

Where there is no Chromium or no Playwright (`make browser` installs it) these
tests are skipped with the reason; with REQUIRE_BROWSER=1 (.ci/run sets it)
they fail instead.

The order the timeline shows is read twice: from the DOM (where the bars are
drawn) and from the JSON (the times). That the check can fail is proven in
the suite (`test_the_wrong_order_fails`), and by hand:
`TIMELINE_SWAP_CHECKPOINTS=1 pytest tests/timeline/test_browser.py -k signup`
serves checkpoint 1 where 0 is expected and 0 where 1 is: both fail.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from support import browser as browsing
from support.browser import Tab
from timeline_support import ROOT, Step8, call, finished, signup, steps, worker_bar

SHOTS = ROOT / "screenshots"
RED = "rgb(220, 38, 38)"  # --failed on the page
ORANGE = "rgb(234, 88, 12)"  # --worker: a job run by step 8's Celery worker
# full-page screenshots grow to the content: a short viewport, no blank space
VIEWPORT = {"width": 1000, "height": 300}
browser = browsing.browser  # the fixtures: Chromium with the network cut
tab = browsing.tab


def shot(tab: Tab, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    tab.page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


# --- /docs ---------------------------------------------------------------


def operations(url: str) -> int:
    paths = call(f"{url}/openapi.json")["paths"]
    return sum(len(methods) for methods in paths.values())


@pytest.mark.parametrize("step", steps())
def test_docs_render_every_operation(step: int, checkpoint, tab: Tab) -> None:
    """Swagger UI draws each operation of the checkpoint, with no internet."""
    url = checkpoint(step)
    tab.page.goto(f"{url}/docs", wait_until="domcontentloaded")
    tab.page.wait_for_selector(".opblock")
    assert tab.page.locator(".opblock").count() == operations(url)
    shot(tab, f"docs-step-{step}")
    tab.assert_clean()


def test_redoc_renders_too(checkpoint, tab: Tab) -> None:
    """ReDoc is served offline as well: its operation titles appear."""
    tab.page.goto(f"{checkpoint(1)}/redoc")
    tab.page.get_by_text("Subscribe to the newsletter").first.wait_for()
    tab.assert_clean()


# --- the timeline ------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """One signup's row: where the bars are drawn, and the JSON's times."""

    request_right: float  # x of the request bar's end (the response sent)
    emails: list[tuple[float, float]]  # x of each email bar's start and end
    json: dict[str, Any]
    reading: str


def watch_signup(tab: Tab, url: str, email: str) -> Seen:
    """Open the timeline, sign up, and read the finished row."""
    tab.page.goto(f"{url}/_workshop/timeline")
    signup(url, email)
    (request,) = finished(url)
    row = tab.page.locator(f'.row[data-request-id="{request["id"]}"]')
    reading = row.locator(".reading")
    reading.filter(has_text=request["reading"]).wait_for()
    request_box = row.locator('.bar[data-kind="request"]').bounding_box()
    emails = []
    for bar in row.locator('.bar[data-kind="email"]').all():
        box = bar.bounding_box()
        emails.append((box["x"], box["x"] + box["width"]))
    drawn = [float(b.get_attribute("data-start-ms")) for b in row.locator(".bar").all()]
    assert drawn == [e["start_ms"] for e in request["events"]]  # DOM = JSON
    return Seen(
        request_box["x"] + request_box["width"], emails, request, reading.inner_text()
    )


def json_emails(seen: Seen) -> list[dict[str, Any]]:
    return [e for e in seen.json["events"] if e["kind"] == "email"]


def assert_email_inside_the_request(seen: Seen) -> None:
    """Step 0: every email bar ends before the request bar does."""
    assert seen.emails, "no email on the timeline"
    drawn = [end for _, end in seen.emails]
    assert all(end <= seen.request_right + 1 for end in drawn), (
        f"an email bar ends at x={max(drawn)}, after the request bar "
        f"(x={seen.request_right}): it was not sent inside the request"
    )
    sent = seen.json["response_sent_ms"]
    assert all(e["end_ms"] <= sent for e in json_emails(seen)), seen.json
    assert "the email was sent inside the request" in seen.reading


def assert_email_after_the_response(seen: Seen) -> None:
    """Step 1: every email bar starts where the request bar has ended."""
    assert seen.emails, "no email on the timeline"
    drawn = [start for start, _ in seen.emails]
    assert all(start >= seen.request_right - 1 for start in drawn), (
        f"an email bar starts at x={min(drawn)}, before the request bar ends "
        f"(x={seen.request_right}): it did not wait for the response"
    )
    sent = seen.json["response_sent_ms"]
    assert all(e["start_ms"] >= sent for e in json_emails(seen)), seen.json
    assert "after the response" in seen.reading


EXPECTED = {0: assert_email_inside_the_request, 1: assert_email_after_the_response}


def served_for(step: int) -> int:
    """The checkpoint to serve for `step`: swapped to prove the check can fail."""
    if os.environ.get("TIMELINE_SWAP_CHECKPOINTS") == "1":
        return {0: 1, 1: 0}[step]
    return step


@pytest.mark.parametrize("step", [0, 1])
def test_signup_timeline(step: int, checkpoint, tab: Tab) -> None:
    """After a signup the email lies inside the request on 0, after it on 1."""
    url = checkpoint(served_for(step))
    seen = watch_signup(tab, url, f"ada-{uuid.uuid4().hex[:8]}@example.com")
    shot(tab, f"timeline-step-{step}")
    EXPECTED[step](seen)
    tab.assert_clean()


def test_the_wrong_order_fails(checkpoint, tab: Tab) -> None:
    """Checkpoint 0's timeline does not pass checkpoint 1's check, nor 1's 0's."""
    for step, other in ((0, 1), (1, 0)):
        url = checkpoint(step)
        seen = watch_signup(tab, url, f"ada-{uuid.uuid4().hex[:8]}@example.com")
        with pytest.raises(AssertionError):
            EXPECTED[other](seen)
    tab.assert_clean()


def test_a_failed_email_shows_red_on_step_5(checkpoint, tab: Tab) -> None:
    """Step 5: an address the mail server refuses: three red email bars."""
    url = checkpoint(5)
    seen = watch_signup(tab, url, f"ada-{uuid.uuid4().hex[:8]}@bounce.example.com")
    row = tab.page.locator(f'.row[data-request-id="{seen.json["id"]}"]')
    failed = row.locator('.bar[data-kind="email"][data-status="failed"]')
    assert failed.count() == 3  # MAX_ATTEMPTS
    for bar in failed.all():
        assert bar.evaluate("b => getComputedStyle(b).backgroundColor") == RED
    reading = row.locator(".reading")
    assert reading.evaluate("r => getComputedStyle(r).color") == RED
    assert "3 emails failed" in seen.reading
    shot(tab, "timeline-step-5")
    tab.assert_clean()


def test_step_8_the_job_runs_in_the_worker(step8: Step8, tab: Tab) -> None:
    """Step 8: the digest's orange bar is light (on the broker) up to the
    response line and beyond, solid once the worker runs it, after the line."""
    url = step8.url
    step8.add_subscriber(f"ada-{uuid.uuid4().hex[:8]}@example.com")
    tab.page.goto(f"{url}/_workshop/timeline")
    call(f"{url}/digests", "POST")
    finished(url)
    step8.start_worker()  # after the 202: the job waits on the broker till now
    request = worker_bar(url, step8, "done")
    row = tab.page.locator(f'.row[data-request-id="{request["id"]}"]')
    row.locator(".reading").filter(has_text=request["reading"]).wait_for()
    bar = row.locator('.bar[data-kind="worker"][data-status="done"]')
    assert bar.evaluate("b => getComputedStyle(b).backgroundColor") == ORANGE
    assert row.locator(".label", has_text="worker: send_digest").count() == 1
    box = bar.bounding_box()
    queued = bar.locator(".phase").bounding_box()  # the light part: on the broker
    line = row.locator(".sent").bounding_box()
    assert box["x"] < line["x"], "the message is sent inside the request"
    assert queued["x"] + queued["width"] >= line["x"] - 1, (
        "the worker ran the job before the response was sent"
    )
    drawn = [float(b.get_attribute("data-start-ms")) for b in row.locator(".bar").all()]
    assert drawn == [e["start_ms"] for e in request["events"]]  # DOM = JSON
    assert "send_digest ran in the worker" in request["reading"]
    shot(tab, "timeline-step-8")
    tab.assert_clean()
