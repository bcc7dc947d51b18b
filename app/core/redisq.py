"""The Redis side of jobs: connection, RQ queues and enqueueing outbox rows."""

from __future__ import annotations

from functools import lru_cache

from flask import current_app
from redis import Redis
from rq import Queue


@lru_cache(maxsize=8)
def _connection(url: str) -> Redis:
    return Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def redis_connection() -> Redis:
    url = current_app.config["REDIS_URL"]
    if not url:
        raise RuntimeError("REDIS_URL is not configured")
    return _connection(url)


def queue(name: str) -> Queue:
    return Queue(name, connection=redis_connection())


def enqueue_outbox_rows(rows) -> None:
    """One RQ job per outbox row, with a deterministic id so a re-relay does not duplicate it."""
    conn = redis_connection()
    with conn.pipeline() as pipe:
        for outbox_id, queue_name in rows:
            Queue(queue_name, connection=conn).enqueue(
                "app.core.jobs.execute_outbox_job",
                outbox_id,
                job_id=f"outbox-{outbox_id}",
                pipeline=pipe,
                result_ttl=3600,
                failure_ttl=7 * 24 * 3600,
            )
        pipe.execute()
