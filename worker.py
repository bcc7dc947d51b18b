"""The RQ worker entry: build the app, enter its context, run workers on the prioritised queues.

    python worker.py          # a worker on high, default, low (in that order)
    python worker.py cron     # RQ's cron scheduler: enqueues the periodic jobs (run one of these)
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> None:
    from app import create_app

    app = create_app()
    with app.app_context():
        from rq.worker import SimpleWorker

        from app.core.jobs import PERIODIC, QUEUES, REGISTRY, run_job_now
        from app.core.redisq import redis_connection

        connection = redis_connection()
        if argv[:1] == ["cron"]:
            from rq.cron import CronScheduler

            cron = CronScheduler(connection=connection)
            for periodic in PERIODIC:
                cron.register(run_job_now, queue_name=REGISTRY[periodic.name].queue, args=(periodic.name,),
                              interval=periodic.interval_seconds, name=periodic.name)
            cron.start()
            return
        # Jobs are batched, set-based work: a non-forking worker avoids the per-job fork cost and keeps
        # the app context (and its connection pool) that was built once above.
        SimpleWorker(list(argv or QUEUES), connection=connection).work(with_scheduler=True)


if __name__ == "__main__":
    main(sys.argv[1:])
