"""Helpers shared by the API tests: tokens, request headers, a valid campaign body, the one error shape."""

from __future__ import annotations

from datetime import timedelta

from app.api import services as api
from app.core import clock


def make_token(session, user, scope: str = "write", *, expires_at=None) -> str:
    secret = api.create_token(session, user=user, name="CRM", scope=scope, expires_at=expires_at,
                              now=clock.now()).secret
    session.commit()
    return secret


def auth(token: str, **extra) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept-Language": "en", **extra}


def campaign_body(**changes) -> dict:
    today = clock.now().date()
    body = {"name": "双11 售后 API", "kind": "outbound_marketing", "industry": "industry.ecommerce",
            "rate_fen_per_hour": 3800, "budget_fen": 500_000, "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=30)).isoformat()}
    body.update(changes)
    return body


def assert_error(response, status: int, code: str):
    """The one error shape, as JSON, never an HTML page."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == code and isinstance(error["message"], str) and error["message"]
    assert set(error) == {"code", "message", "details"}
    return error
