"""`flask academy check [ROOT]` and `flask academy sync`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from academy import check as check_catalogue
from app.core import clock
from app.core.db import db

academy_cli = AppGroup("academy", help="The Academy catalogue: validate it, store its course versions.")


@academy_cli.command("check")
@click.argument("root", required=False, type=click.Path(path_type=Path))
def check_command(root: Path | None) -> None:
    """Validate the catalogue (ACADEMY_CATALOGUE_DIR, or ROOT); print every problem and exit 1 if any."""
    from app.training import catalogue_root, known_tags, load_cached

    folder = root.resolve() if root is not None else catalogue_root(current_app)
    problems = check_catalogue(folder, known_tags())
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} problem(s) found in {folder}", err=True)
        sys.exit(1)
    catalogue = load_cached(folder)
    click.echo(f"catalogue ok: {len(catalogue.courses)} courses, {len(catalogue.assessments)} assessments")


@academy_cli.command("sync")
def sync_command() -> None:
    """Store every course version the catalogue has that the database does not (idempotent)."""
    from academy import CatalogueError
    from app.training import current_catalogue
    from app.training.services import sync_catalogue

    try:
        catalogue = current_catalogue()
    except CatalogueError as exc:
        raise click.ClickException(str(exc)) from None
    new = sync_catalogue(db.session, catalogue, now=clock.now())
    db.session.commit()
    click.echo(f"{new} new course version(s); {len(catalogue.courses)} courses in the catalogue")
