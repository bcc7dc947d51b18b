"""gunicorn settings for production (`gunicorn -c python:app.gunicorn_conf 'app:create_app()'`).

Sync workers, 2 × cores + 1: on the claim path they beat gthread in throughput and p99 (design notes).
"""

import multiprocessing
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
accesslog = os.environ.get("ACCESS_LOG") or None
errorlog = "-"
preload_app = False  # each worker builds its own app and connection pool after the fork
