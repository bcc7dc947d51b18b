"""Small helpers for the page tests: English browsers, logged-in browsers, reading pages."""

from __future__ import annotations

import html
import re

from tests.factories import PASSWORD


def english(browser):
    """Ask for English pages so assertions on wording do not depend on the zh catalogue's progress."""
    browser.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return browser


def logged_in(make_browser, user, password: str = PASSWORD):
    """A fresh English browser logged in as `user`."""
    browser = english(make_browser())
    browser.login(user.email, password)
    return browser


def text_of(response) -> str:
    """The page's text with entities decoded (so "It's" matches "It&#39;s")."""
    return html.unescape(response.get_data(as_text=True))


def assert_page(response, status: int = 200):
    """A rendered page with this status (never a bare 500), built for phones."""
    assert response.status_code == status, (response.status_code, text_of(response)[:800])
    if response.mimetype == "text/html" and response.status_code != 302:
        assert '<meta name="viewport"' in response.get_data(as_text=True)
    return response


def redirected_to(response, path: str) -> bool:
    location = response.headers.get("Location", "")
    return response.status_code == 302 and (location == path or location.endswith(path) or
                                            location.split("?")[0].endswith(path))


def shift_ids_on(response) -> list[int]:
    """Shift ids linked from a board page, in order."""
    return [int(m) for m in re.findall(r'href="/agent/shifts/(\d+)"', response.get_data(as_text=True))]


def count_statements(work) -> int:
    """How many SQL statements `work()` sends (pages and reads must not grow with the data: no N+1)."""
    from sqlalchemy import event

    from app.core.db import db

    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        work()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    return len(seen)
