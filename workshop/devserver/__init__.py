"""The dev servers, `workshop serve` and `workshop worker`: supervisor.py (what
both share), app_supervisor.py and its app_process.py (uvicorn), and
worker_supervisor.py and its worker_process.py (Celery).
"""
