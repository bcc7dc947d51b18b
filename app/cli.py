"""Flask CLI commands: admins, the demo, jobs."""

from __future__ import annotations

import click
from flask import Flask

from app.core import clock
from app.core.db import db


def register(app: Flask) -> None:
    from app.training.cli import academy_cli

    app.cli.add_command(academy_cli)

    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--name", default="Admin")
    @click.password_option()
    def create_admin(email, name, password):
        """Create a platform admin."""
        from app.core.errors import DomainError
        from app.members.services import create_admin as create

        try:
            user = create(db.session, email=email, name=name, password=password, now=clock.now())
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc.message)) from None
        click.echo(f"admin {user.email} created (id {user.id})")

    @app.cli.command("seed-demo")
    @click.option("--agents", default=200, show_default=True)
    def seed_demo(agents):
        """Seed the demo once (does nothing if it is already there)."""
        from app.demo import seed

        created = seed(db.session, agents=agents, now=clock.now())
        click.echo("demo seeded" if created else "demo already present")

    @app.cli.command("run-job")
    @click.argument("name")
    def run_job(name):
        """Run one registered job now (e.g. campaigns.advance)."""
        from app.core.jobs import REGISTRY, run_job_now

        if name not in REGISTRY:
            raise click.ClickException(f"unknown job; known: {', '.join(sorted(REGISTRY))}")
        run_job_now(name)
        click.echo(f"{name} done")

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    def serve(host, port):
        """Serve the embedded site with jobs and periodic work running in-process (make run)."""
        from app.core.scheduler import start_in_process

        if app.config.get("JOBS_IN_PROCESS", True):
            start_in_process(app)
        click.echo(f"Surgeline on http://{host}:{port}/  (logins in README.md; Ctrl+C stops)")
        from werkzeug.serving import run_simple

        run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)
