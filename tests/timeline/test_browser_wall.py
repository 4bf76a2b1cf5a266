"""The timeline on a wall, in the dark, on a phone, for everyone; a stalled loop.

Same browser and network cut as test_browser.py (its fixtures). Each test
takes a screenshot (screenshots/, git-ignored; docs/img/ has the README's).
axe-core comes from the npm registry (`npm install --prefix tests/timeline
--no-package-lock`: package.json pins it, no lock file is committed); without
it the accessibility test skips with that command (fails with
REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import itertools
import os
import shutil
import threading
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
import test_browser
import test_crash
from test_browser import Tab, shot
from timeline_support import (
    DELAY,
    ROOT,
    SERVED,
    WAIT,
    Step8,
    call,
    finished,
    signup,
    steps,
    warm_up,
)

from workshop.bench.scenarios import checkpoint_server

browser = test_browser.browser  # its fixtures: the same browser, the same cut
tab = test_browser.tab
redis_broker = test_crash.redis_broker  # step 9 on Redis, under keys of its own
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
DARK_BG = "rgb(11, 18, 32)"  # --bg in the dark palette


def fresh(local: str, domain: str = "example.com") -> str:
    return f"{local}-{uuid.uuid4().hex[:8]}@{domain}"


def open_timeline(tab: Tab, url: str, width: int, height: int) -> None:
    tab.page.set_viewport_size({"width": width, "height": height})
    tab.page.goto(f"{url}/_workshop/timeline")


def rows_drawn(tab: Tab, requests: list[dict[str, Any]]) -> None:
    for request in requests:
        row = tab.page.locator(f'.row[data-request-id="{request["id"]}"]')
        row.locator(".reading").filter(has_text=request["reading"]).wait_for()


# Playwright runs the page's routes (the network cut) in this thread: while
# it waits in urllib, the page's polls are held, and the page would rightly
# say the server is not answering. So the page is opened once the requests
# are done, except where that is the point (step 2's trap).


def three_requests(url: str) -> list[dict[str, Any]]:
    """A bounce signup, a plain one, and a GET without background work
    (GET /outbox: no audit dependency, no task)."""
    signup(url, fresh("bounce", "bounce.example.com"))
    signup(url, fresh("ada"))
    call(f"{url}/outbox")
    return finished(url, 3)


def test_wall_mode(checkpoint, tab: Tab) -> None:
    url = checkpoint(5)
    requests = three_requests(url)
    open_timeline(tab, url, 1920, 1080)  # now: see three_requests
    posts = [r for r in requests if r["method"] == "POST"]
    (get,) = [r for r in requests if r["method"] == "GET"]
    rows_drawn(tab, requests)
    page = tab.page
    page.get_by_role("button", name="Wall mode").click()
    assert page.locator("html.wall").count() == 1
    assert page.locator("#wall").get_attribute("aria-pressed") == "true"
    rows_drawn(tab, posts)
    assert page.locator(f'.row[data-request-id="{get["id"]}"]').count() == 0
    # one time scale: every row's axis ends at the same label
    ends = page.locator(".row .axis span:last-child").all_inner_texts()
    assert len(ends) == 2 and len(set(ends)) == 1, ends
    # full width, large type, dark, failure reasons inline
    main = page.locator("main").bounding_box()
    assert main["width"] >= 1920 * 0.95
    size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert size == "20px"
    assert (
        page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        == DARK_BG
    )
    assert "550 no such mailbox" in page.locator(".why").first.inner_text()
    # remembered, and redrawn only when a row changes
    page.evaluate("document.querySelector('.row').dataset.kept = 'yes'")
    page.wait_for_timeout(600)  # two polls: nothing changed, nothing redrawn
    assert page.locator('.row[data-kept="yes"]').count() == 1
    shot(tab, "timeline-wall")
    page.reload()
    assert page.locator("html.wall").count() == 1
    tab.assert_clean()


def test_dark_palette_follows_the_system(browser: Any, checkpoint) -> None:
    url = checkpoint(5)
    context = browser.new_context(
        viewport={"width": 1000, "height": 300}, color_scheme="dark"
    )
    page = context.new_page()
    try:
        page.goto(f"{url}/_workshop/timeline")
        signup(url, fresh("bounce", "bounce.example.com"))
        (request,) = finished(url)
        row = page.locator(f'.row[data-request-id="{request["id"]}"]')
        row.locator(".reading").filter(has_text=request["reading"]).wait_for()
        assert page.evaluate(
            "getComputedStyle(document.documentElement).backgroundColor"
        ) == (DARK_BG)
        assert page.locator("html.wall").count() == 0
        shot(Tab(page), "timeline-dark")
    finally:
        context.close()


def test_phone_width(checkpoint, tab: Tab) -> None:
    url = checkpoint(5)
    requests = three_requests(url)
    open_timeline(tab, url, 390, 844)  # now: see three_requests
    rows_drawn(tab, requests)
    page = tab.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.locator("header").bounding_box()["height"] <= 844 / 6
    for row in page.locator(".row").all():  # tick labels never overlap
        boxes = [s.bounding_box() for s in row.locator(".axis span").all()]
        assert len(boxes) >= 2
        for left, right in itertools.pairwise(boxes):
            assert left["x"] + left["width"] <= right["x"] + 0.5, boxes
        plot = row.locator(".plot").bounding_box()
        assert plot["width"] >= 200, "the plot gets most of the width"
    shot(tab, "timeline-phone")
    tab.assert_clean()


def axe_violations(tab: Tab) -> list[dict[str, Any]]:
    tab.page.add_script_tag(path=str(AXE))
    found = tab.page.evaluate("async () => (await axe.run()).violations")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def test_accessibility(checkpoint, tab: Tab) -> None:
    if not AXE.is_file():
        message = "no axe-core: npm install --prefix tests/timeline --no-package-lock"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    url = checkpoint(5)
    requests = three_requests(url)
    open_timeline(tab, url, 1280, 800)  # now: see three_requests
    rows_drawn(tab, requests)
    page = tab.page
    assert page.locator(".row h2").count() == 3  # each row is a heading
    assert page.locator("[aria-live=polite]").count() == 1
    assert page.locator("#announce").inner_text() != ""
    # every bar is reachable by keyboard, and tells its details
    bars = page.locator(".bar").count()
    first = page.locator(".bar").first
    first.focus()
    details = page.locator(".row .details").first
    assert details.inner_text() == first.get_attribute("aria-label")
    assert "(200)" in details.inner_text()
    for _ in range(bars - 1):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('bar')")
    for mode in ("light", "wall", "phone"):
        if mode == "wall":
            page.get_by_role("button", name="Wall mode").click()
            rows_drawn(tab, [r for r in requests if r["method"] == "POST"])
        if mode == "phone":
            page.set_viewport_size({"width": 390, "height": 844})
        assert axe_violations(tab) == [], mode
    shot(tab, "timeline-accessible")
    tab.assert_clean()


# --- step 2's trap: a blocking call in an async def --------------------------------


def trapped_step_2(into: Path) -> Path:
    """Checkpoint 2 with notify_admin calling the blocking send_email."""
    folder = into / "step-2"
    shutil.copytree(ROOT / "checkpoints" / "step-2", folder)
    tasks = folder / "app" / "tasks.py"
    text = tasks.read_text()
    assert "    await send_email_async(" in text
    tasks.write_text(text.replace("    await send_email_async(", "    send_email("))
    return folder


@pytest.mark.skipif(2 not in steps(), reason="no checkpoint 2")
def test_a_blocked_loop_shows(tab: Tab, tmp_path: Path) -> None:
    server = checkpoint_server(trapped_step_2(tmp_path), 3.0, SERVED)
    server.start()
    try:
        url = server.url
        warm_up(url)
        call(f"{url}/_workshop/timeline/reset", "POST")
        open_timeline(tab, url, 1000, 300)
        page = tab.page
        signup(url, fresh("ada"))
        # the welcome email runs in the threadpool; then notify_admin blocks
        page.locator("#live.off").wait_for()
        said = (
            page.locator("#live").inner_text(),
            page.locator("#stalled").inner_text(),
            page.locator("#live").get_attribute("title"),
        )
        assert "event loop" in said[1], said
        listed: list[int] = []
        waiting = threading.Thread(
            target=lambda: listed.append(
                urllib.request.urlopen(f"{url}/subscribers", timeout=WAIT).status
            )
        )
        waiting.start()  # sent while the loop is blocked: answered only after
        shot(tab, "timeline-step-2-blocked-live")
        waiting.join(WAIT)
        assert listed == [200]
        requests = finished(url, 2)
        post, get = requests
        assert "notify_admin blocked the event loop for" in post["reading"]
        assert "blocked the event loop" in get["reading"], (get, post)
        rows_drawn(tab, requests)
        page.locator("#live:not(.off)").wait_for()
        blocked = page.locator('.bar[data-name="notify_admin"] .blocked')
        assert blocked.count() == 1
        shot(tab, "timeline-step-2-blocked")
        tab.assert_clean()
    finally:
        server.stop()


@pytest.mark.skipif(9 not in steps(), reason="no checkpoint 9")
def test_step_9_the_redelivery_shows(tab: Tab, redis_broker: dict) -> None:
    """The picture of step 9's crash demo: the lost run hatched, then the second."""
    step9 = Step8(max(DELAY, 0.5), step=9, broker=redis_broker)
    try:
        job, row, addresses = test_crash.crash_demo(step9)
        test_crash.assert_both_runs(job, row, addresses)
        # opened now: while this thread waited in the demo, Playwright held
        # the page's polls (its routes run here), which the page would report
        open_timeline(tab, step9.url, 1000, 300)
        drawn = tab.page.locator(f'.row[data-request-id="{row["id"]}"]')
        drawn.locator(".reading").filter(has_text=row["reading"]).wait_for()
        assert drawn.locator('.bar[data-kind="worker"] .lost-run').count() == 1
        shot(tab, "timeline-step-9")
        tab.assert_clean()
    finally:
        step9.stop()
