"""The live room's dashboard in a real browser (Chromium), the network cut.

The room runs in this process with a clock the test moves
(tests/support/live_room.py); learners report through HTTP while the page is
open, and the page must follow without a reload: a new row, a changed step,
the stuck highlight, the common failures with their counts, the projector
view without names, the CSV export. A learner's text that looks like markup
stays text. Screenshots go to screenshots/ (git-ignored); the README's is
docs/img/live-room.png, copied from there.
"""

# ruff: noqa: F811 (the fixture `tab`, imported, is every test's argument)

from __future__ import annotations

from pathlib import Path

import pytest
from support.browser import Tab, browser, tab  # noqa: F401 (the fixtures)
from support.live_room import LiveRoomHarness

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"
STUCK_BACKGROUND = "rgb(254, 226, 226)"  # --stuck on the page
TIMES = "\u00d7"  # how the page writes a count: \u00d72
MARKUP = '<img src=x onerror="alert(1)"> assert x < 3'
ONE = "the welcome email was sent before the response: hand it to add_task"
TWO = "TypeError: add_task() takes the function and its arguments, not f(x)"


@pytest.fixture
def room():
    with LiveRoomHarness(stuck_after=600) as harness:
        yield harness


def shot(tab: Tab, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    tab.page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def row(tab: Tab, name: str):
    return tab.page.locator("#learners tr.learner").filter(has_text=name)


def test_the_dashboard_follows_the_room_live(room, tab: Tab) -> None:
    ada, bob, cy = room.join("Ada Lovelace"), room.join("Bob"), room.join("Cy")
    room.report(ada, 1, failure=ONE, green=(0,))
    room.report(bob, 1, failure=ONE, green=(0,))
    tab.page.goto(room.dashboard)
    row(tab, "Bob").locator("td.failure", has_text=ONE).wait_for()
    assert row(tab, "Cy").locator("td.state").inner_text() == "joined"

    # a report while the page is open: the row changes, no reload
    room.clock.advance(90)
    room.report(cy, 2, failure=TWO, green=(0, 1))
    row(tab, "Cy").locator("td.step", has_text="2").wait_for()
    assert row(tab, "Cy").locator("td.failure").inner_text() == TWO

    # the common failures, counted
    tab.page.locator("#common li", has_text=f"{TIMES}1").wait_for()
    items = tab.page.locator("#common li").all_inner_texts()
    assert items == [f"{TIMES}2{ONE}", f"{TIMES}1{TWO}"]

    # red for longer than the limit: highlighted
    room.clock.advance(600)
    stuck = tab.page.locator("#learners tr.stuck")
    stuck.filter(has_text="Ada Lovelace").wait_for()
    assert stuck.count() == 2  # Ada and Bob: 690 s red; Cy: 600 s
    background = row(tab, "Bob").evaluate("r => getComputedStyle(r).backgroundColor")
    assert background == STUCK_BACKGROUND
    assert "11 min" in row(tab, "Ada").locator("td.time").inner_text()
    shot(tab, "live-room")
    tab.assert_clean()


def test_a_learner_text_that_looks_like_markup_stays_text(room, tab: Tab) -> None:
    ada = room.join("Ada")
    room.report(ada, 1, failure=MARKUP)
    tab.page.goto(room.dashboard)
    row(tab, "Ada").locator("td.failure", has_text="onerror").wait_for()
    assert row(tab, "Ada").locator("td.failure").inner_text() == MARKUP
    assert tab.page.locator("img").count() == 0
    tab.assert_clean()  # no dialog: no script ran


def test_the_projector_view_hides_the_names(room, tab: Tab) -> None:
    ada, bob = room.join("Ada Lovelace"), room.join("Bob Builder")
    room.report(ada, 2, failure=ONE, green=(0, 1))
    room.report(bob, 1, failure=TWO, green=(0,))
    tab.page.goto(room.dashboard)
    row(tab, "Bob Builder").wait_for()
    tab.page.get_by_role("button", name="Projector view").click()
    tab.page.get_by_role("button", name="Instructor view").wait_for()
    assert "view=projector" in tab.page.url
    text = tab.page.locator("body").inner_text()
    html = tab.page.content()
    for name in ("Ada Lovelace", "Bob Builder"):
        assert name not in text and name not in html
    assert tab.page.locator("#learners tr.learner").count() == 2
    assert ONE in text and TWO in text  # the failures stay, for the room
    shot(tab, "live-room-projector")
    tab.page.reload()  # the address keeps the view
    tab.page.locator("#learners tr.learner").first.wait_for()
    assert "Ada Lovelace" not in tab.page.content()
    tab.assert_clean()


def test_the_timings_export_downloads_a_csv(room, tab: Tab) -> None:
    ada = room.join("Ada")
    room.report(ada, 1, failure=ONE, green=(0,))
    room.clock.advance(30)
    room.report(ada, 2, failure=TWO, green=(0, 1))
    tab.page.goto(room.dashboard)
    row(tab, "Ada").wait_for()
    with tab.page.expect_download() as download:
        tab.page.get_by_role("button", name="Export timings (CSV)").click()
    assert download.value.suggested_filename == "room-timings.csv"
    lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0] == "learner,step,started_utc,green_utc,seconds"
    assert lines[1].startswith("Ada,1,") and lines[1].endswith(",30.0")
    tab.assert_clean()


def test_without_the_token_the_page_shows_nothing(room, tab: Tab) -> None:
    room.report(room.join("Ada"), 1, failure=ONE)
    answer = tab.page.goto(room.dashboard.replace("token=", "token=x"))
    assert answer.status == 403
    assert "Ada" not in tab.page.content()
