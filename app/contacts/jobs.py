"""Contacts jobs: importing call lists and keeping the hand-out queue healthy."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from app.contacts import services
from app.contacts.crypto import current_vault
from app.core.jobs import job


@job("contacts.import_call_list", queue="low")
def import_call_list_job(session, now, call_list_id: int) -> None:
    """Import an uploaded call list (idempotent: a finished or busy list is left alone; a stalled one resumes)."""
    services.import_call_list(session, call_list_id=call_list_id, vault=current_vault(),
                              upload_dir=current_app.config["UPLOAD_DIR"],
                              max_rows=current_app.config["CALL_LIST_MAX_ROWS"], now=now)


@job("contacts.resume_stalled_imports", queue="default", every=300)
def resume_stalled_imports_job(session, now) -> None:
    """Imports whose importer died get a new job; it resumes from the last committed batch."""
    services.resume_stalled_imports(session, now=now)


@job("contacts.release_stale_assignments", queue="default", every=300)
def release_stale_assignments_job(session, now) -> None:
    """Contacts left with an agent whose shift is over (or who checked out) go back to the list."""
    services.release_stale_assignments(session, now=now)


@job("contacts.purge_call_list_files", queue="low", every=3600)
def purge_call_list_files_job(session, now) -> None:
    """Uploaded files and error files are deleted after CALL_LIST_FILE_RETENTION_DAYS."""
    services.purge_call_list_files(
        session, upload_dir=current_app.config["UPLOAD_DIR"], now=now,
        retention=timedelta(days=current_app.config["CALL_LIST_FILE_RETENTION_DAYS"]))
