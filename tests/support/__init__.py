"""Helpers shared by the test folders (their own tests: tests/project/test_support.py).

`live`: a live uvicorn server in a thread, `wait_until`, `free_port`.

A test folder that uses them puts tests/ on sys.path itself, so the import
works in any pytest import mode, whatever the rootdir:

    sys.path.insert(1, str(Path(__file__).resolve().parents[1]))  # tests/
    from support.live import LiveServer, free_port, wait_until
"""
