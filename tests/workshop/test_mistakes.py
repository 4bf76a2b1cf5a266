"""Each classic mistake of a step gets a first message line that names the fix.

The mistakes are a table in tests/steps/mistakes.py: edits of a checkpoint's
app. Each one is applied to a copy of its checkpoint in tmp_path and that
step's checks run on it, supervised, as `workshop check` runs them (one
runner process each, so they run in parallel under xdist). docs/MISTAKES.md
is the same table with the line each mistake gets: it must be current
(`python tests/steps/mistakes.py` rewrites it).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_table():
    path = ROOT / "tests" / "steps" / "mistakes.py"
    spec = importlib.util.spec_from_file_location("workshop_step_mistakes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


table = load_table()
REGENERATE = "run `python tests/steps/mistakes.py` to rewrite docs/MISTAKES.md"


@pytest.mark.parametrize("mistake", table.MISTAKES, ids=lambda m: m.key)
def test_the_first_message_line_names_the_fix(mistake, tmp_path: Path) -> None:
    check, message = table.first_message(mistake, tmp_path)
    line = table.first_line(message)
    assert line, f"step {mistake.step} stays green with this mistake"
    missing = [words for words in mistake.names if words not in line]
    assert not missing, f"{line!r} does not say {missing}"
    # pytest's introspection is for -v: no '+ where <function f at 0x...>'
    assert " at 0x" not in message and "+ where" not in message, message
    documented = table.documented().get(mistake.key)
    assert documented == (check, line), REGENERATE


def test_the_mistakes_page_lists_every_mistake_once() -> None:
    keys = [m.key for m in table.MISTAKES]
    assert len(keys) == len(set(keys)), "two mistakes with the same step and name"
    assert sorted(table.documented()) == sorted(keys), REGENERATE


# Step N's checks on checkpoint N-1 fail on what happened, at once (no
# message is a 'gave up after 3 s waiting until ...'): `workshop verify`
# proves it for every step, in the red run it makes anyway (make test runs it).
WAITED = ("gave up after", "no answer", "did not finish in")


def test_a_step_8_mistake_makes_check_9_wait_out_no_timeout(tmp_path: Path) -> None:
    """Issue 20: a job run in the web process (send_digest(job_id), no
    .delay) on checkpoint 9 made `workshop check 9` wait 63 s of timeouts
    that had nothing to do with it. Now step 8 is red at once, naming the
    fix, and no message of step 8 or 9 is a wait that ran out."""
    from workshop.checks.suites import run_suites

    [step_8] = [m for m in table.MISTAKES if m.key.startswith("8: calls send_digest")]
    on_9 = table.Mistake(9, step_8.what, step_8.edits, step_8.names)
    app = table.apply(on_9, tmp_path)
    eight, nine = run_suites(ROOT, app, [8, 9])
    assert eight.red and "send_digest.delay(job_id)" in eight.failures[0].message
    messages = [f.message for r in (eight, nine) for f in r.failures]
    messages += eight.messages + nine.messages
    waited = [m for m in messages if any(words in m for words in WAITED)]
    assert not waited, waited


def test_a_task_the_worker_never_registers_holds_no_request(tmp_path: Path) -> None:
    """The in-process worker discards the message of a task it does not know
    ('Received unregistered task'): the TestClient's wait for that job ends
    there, not after queue_support.JOB_LIMIT. It once waited 8 s per request
    for ever after, so `workshop check 8` with the digest task in a module the
    worker never imports took 95 s: the upload test, which has no mistake,
    'did not finish in 10 s' and step 7 went red with it."""
    from workshop.checks.suites import Limits, run_suites

    [row] = [m for m in table.MISTAKES if m.key.startswith("8: puts the digest")]
    app = table.apply(row, tmp_path)
    [eight] = run_suites(ROOT, app, [8], limits=Limits())  # 10 s, as learners have
    messages = [f.message for f in eight.failures] + eight.messages
    assert len(messages) == 1 and "define send_digest" in messages[0], messages
    # the upload test, the job row committed before its message, socket_timeout
    assert eight.passed == 3, messages


def test_an_earlier_step_red_on_a_discarded_job_leads_with_the_workers_reason(
    tmp_path: Path,
) -> None:
    """With the digest task in a module the worker never imports, step 7's
    digest checks are red too (the job never runs): each leads with what the
    worker did, not a guess from the job's status ('the task sets it running
    first', which the code already does)."""
    from workshop.checks.suites import run_suites

    [row] = [m for m in table.MISTAKES if m.key.startswith("8: puts the digest")]
    app = table.apply(row, tmp_path)
    [seven] = run_suites(ROOT, app, [7])
    assert seven.failures, "step 7 ran no digest on this app"
    for failure in seven.failures:
        first = table.first_line(failure.message)
        assert "Received unregistered task" in first, failure.message
        assert "define send_digest in app/worker.py" in first, failure.message


def test_an_app_error_the_test_client_raises_again_is_said_once(tmp_path) -> None:
    """A task that raises: the TestClient raises the same error in the test, and
    the message says it once, where the app raised it."""
    raising = table.Mistake(
        3,
        "the admin notice raises",
        (
            table.Edit(
                "tasks.py",
                "async def notify_admin(email: str, *, name: str) -> None:\n",
                "async def notify_admin(email: str, *, name: str) -> None:\n"
                '    raise RuntimeError("mail server down")\n',
            ),
        ),
        ("RuntimeError: mail server down",),
    )
    _check, message = table.first_message(raising, tmp_path)
    assert message.startswith("app/tasks.py:20: RuntimeError: mail server down")
    assert message.count("mail server down") == 1, message


def test_every_line_of_a_step_agrees_with_its_first(tmp_path: Path) -> None:
    """The full URL in the audit entry: the first line names it, and no later
    check of the step says to write the dependency the app already has (one
    read what the log held before the entry was written)."""
    from workshop.checks.suites import run_suites

    [row] = [m for m in table.MISTAKES if m.key.startswith("4: writes {request.url}")]
    [four] = run_suites(ROOT, table.apply(row, tmp_path), [4])
    messages = [f.message for f in four.failures]
    assert len(messages) >= 2, messages
    assert not [m for m in messages if "write a dependency" in m], messages
