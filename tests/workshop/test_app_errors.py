"""The app's own error, read from a live process's log, and fixes read from
the evidence where the app raised (workshop/checks/app_errors.py, diagnose.py)."""

from __future__ import annotations

from pathlib import Path

from workshop.checks.app_errors import from_log
from workshop.checks.diagnose import in_context

CHAINED = """\
INFO:     127.0.0.1 - "POST /subscribers HTTP/1.1" 500
Traceback (most recent call last):
  File "/venv/kombu/utils/json.py", line 3, in dumps
    return json.dumps(s)
TypeError: Object of type Subscriber is not JSON serializable

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "{app}/main.py", line 55, in subscribe
    welcome.delay(subscriber)
  File "/venv/kombu/serialization.py", line 9, in dumps
    raise EncodeError(exc) from exc
kombu.exceptions.EncodeError: Object of type Subscriber is not JSON serializable
"""


def test_a_traceback_in_a_log_is_the_app_line(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    line = from_log(CHAINED.format(app=tmp_path / "app"), tmp_path)
    assert line is not None
    assert line.startswith(
        "app/main.py:55: EncodeError: Object of type Subscriber is not JSON"
    )
    assert "pass plain values to .delay(...)" in line


def test_a_traceback_outside_app_is_not_the_app_s(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    assert from_log(CHAINED.format(app="/elsewhere"), tmp_path) is None


def test_an_unregistered_task_is_read_from_the_worker_log() -> None:
    log = "[12:00] ERROR Received unregistered task of type 'app.jobs.send_digest'."
    line = from_log(log)
    assert line is not None
    assert "'app.jobs.send_digest'" in line and "app/worker.py" in line


def test_a_fix_is_named_only_on_evidence() -> None:
    missing = "audit_request() missing 3 required positional arguments: 'request'"
    assert "Depends(audit_request), not" in (
        in_context(missing, "dependencies=[Depends(audit_request())],", None) or ""
    )
    assert in_context(missing, "background_tasks.add_task(audit_request)", None) is None
    unbound = "Error binding parameter 1: type 'UUID' is not supported"
    assert "SQLite cannot store a UUID" in (in_context(unbound, "x", False) or "")
    assert in_context(unbound, "x", True) is None  # in a task: advice() says it


def test_a_delay_with_other_arguments_says_so() -> None:
    log = """\
Traceback (most recent call last):
  File "{app}/main.py", line 55, in subscribe
    welcome.delay(subscriber)
TypeError: welcome() missing 2 required positional arguments: 'email' and 'name'
"""
    line = from_log(log.format(app=Path.cwd() / "app"), Path.cwd())
    assert line is not None and line.startswith("app/main.py:55: TypeError")
    assert "welcome.delay(...) must pass what welcome() takes" in line


def test_a_long_error_is_cut_after_a_sentence_so_its_fix_shows() -> None:
    """FastAPI's FastAPIError for a parameter it cannot read runs on for 500
    characters: the fix after it would be off the learner's screen."""
    from workshop.checks.diagnose import advice, brief

    text = (
        "FastAPIError: Invalid args for response field! Hint: check that <class "
        "'starlette.background.BackgroundTask'> is a valid Pydantic field type. "
        "If you are using a return type annotation that is not a valid Pydantic "
        "field (e.g. Union[Response, dict, None]) you can disable generating the "
        "response model from the type annotation with the path operation "
        "decorator parameter response_model=None. Read more: https://example.org"
    )
    assert brief(text) == text[: text.index("field type.") + 11] + " …"
    assert brief("NameError: x") == "NameError: x"
    assert "type it BackgroundTasks, from fastapi" in (advice(text) or "")


def test_a_misspelt_import_gets_the_name_meant() -> None:
    """Python 3.11 does not say it (3.12 does): the name closest to the one
    asked for, read from the module as the process already has it."""
    import fastapi  # noqa: F401  (imported by the app before it failed)

    from workshop.checks.diagnose import advice

    text = "ImportError: cannot import name 'BackgroundTask' from 'fastapi' (x.py)"
    assert (advice(text) or "").endswith("(did you mean BackgroundTasks?)")
    other = "ImportError: cannot import name 'Thing' from 'never_imported_here' (x)"
    assert "did you mean" not in (advice(other) or "")
