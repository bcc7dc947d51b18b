"""Real concurrency for integration tests: jobs in their own threads, app contexts and connections."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.core.db import db


def in_threads(app, jobs: list[Callable], timeout: float = 180) -> list:
    """Run each job(session) in its own thread and app context (so its own connection), released together.

    Returns the jobs' results in order; a job that raises fails the calling test (asserted here).
    """
    db.session.rollback()  # on SQLite an open transaction here would hold the write lock
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def worker(index, job):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = job(db.session)
            except Exception as exc:  # surfaced below: a crash is a failure
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    assert not errors, errors
    return results
