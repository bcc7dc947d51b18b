"""Embedded mode's periodic jobs: a daemon thread that runs each PERIODIC job on its interval.

Production uses RQ's cron scheduler (`python worker.py cron`) over the same PERIODIC list.
"""

from __future__ import annotations

import logging
import threading
import time

from flask import Flask

from app.core import jobs

log = logging.getLogger(__name__)


def run_due(app: Flask, last_run: dict[str, float], now_monotonic: float) -> list[str]:
    """Run every periodic job whose interval has passed; returns the names run."""
    ran = []
    for periodic in jobs.PERIODIC:
        if now_monotonic - last_run.get(periodic.name, float("-inf")) < periodic.interval_seconds:
            continue
        last_run[periodic.name] = now_monotonic
        with app.app_context():
            try:
                jobs.run_job_now(periodic.name)
                ran.append(periodic.name)
            except Exception:
                log.exception("periodic job %s failed", periodic.name)
    return ran


def start_in_process(app: Flask, tick_seconds: float = 5.0) -> threading.Thread:
    def loop():
        last_run: dict[str, float] = {}
        while True:
            run_due(app, last_run, time.monotonic())
            time.sleep(tick_seconds)

    thread = threading.Thread(target=loop, name="surgeline-periodic", daemon=True)
    thread.start()
    return thread
