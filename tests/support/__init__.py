"""Helpers shared by the test folders (their own tests: tests/project/test_support.py).

`live`: a live uvicorn server in a thread, `wait_until`, `free_port`.
`repos`: commits, tags and saved-work refs of the tool tests' git repositories.

tests/ is on sys.path through `pythonpath` in pyproject.toml's
[tool.pytest.ini_options] (for `workshop check` too: it runs pytest with this
checkout's configuration), so any test imports them as

    from support.live import LiveServer, free_port, wait_until
"""
