"""The schema only changes through migrations: models and migrations must agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.core.db import db


def test_models_and_migrations_describe_the_same_schema(app):
    import app.models  # noqa: F401
    from app.kb.search import include_object  # the knowledge base's FTS5 table / tsvector column are not models

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"models and migrations disagree: {diff}"


def test_tag_catalogue_in_the_migration_matches_the_code(session):
    from sqlalchemy import select

    from app.members.models import Tag
    from app.members.tags import TAG_CATALOGUE

    rows = set(session.execute(select(Tag.code, Tag.kind, Tag.name_zh, Tag.name_en)).all())
    assert rows == set(TAG_CATALOGUE)
