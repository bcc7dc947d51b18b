"""Property-based: schemathesis generates requests from openapi.json for every operation and checks the
answers (no server error, a documented status, a body that matches the documented schema, JSON)."""

from __future__ import annotations

from datetime import timedelta

import hypothesis.strategies as st
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.core import clock
from tests.integration.api_support import auth, campaign_body, make_token
from tests.integration.contacts_support import (
    csv_bytes,
    outbound_campaign,
    phones,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
EXAMPLES = 25


def test_every_operation_answers_as_documented(app, session, factory, client, uploads):
    owner = factory.client()
    token = make_token(session, owner)
    campaign = outbound_campaign(factory, owner)
    upload = client.post(f"/api/v1/campaigns/{campaign.id}/call-lists", data=csv_bytes([f"王,{phones(1)[0]},"]),
                         content_type="text/csv", headers=auth(token))
    own = {"campaign_id": campaign.id, "call_list_id": upload.get_json()["id"]}
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    valid_bodies = {
        "POST /api/v1/campaigns": (campaign_body(), "application/json"),
        "POST /api/v1/campaigns/{campaign_id}/shifts": ({"pattern": {
            "first_day": tomorrow, "last_day": tomorrow, "day_start": "08:00", "day_end": "12:00",
            "block_minutes": 60, "seats": 3}}, "application/json"),
        "POST /api/v1/campaigns/{campaign_id}/call-lists": (csv_bytes([f"李,{phones(1, 50)[0]},"]).decode(),
                                                              "text/csv"),
    }
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every documented operation except the document itself (schemathesis leaves out the URL it loaded).
    assert len(operations) == 9, [o.label for o in operations]
    seen: dict[str, set[int]] = {}
    for operation in operations:
        fixed = {p.name: own[p.name] for p in operation.path_parameters if p.name in own}
        strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
        if fixed:  # also this business's own objects, not only ids that are someone else's or missing
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
        if operation.label in valid_bodies:  # and bodies the domain accepts, so answers on success are checked too
            body, media_type = valid_bodies[operation.label]
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed, body=body,
                                                    media_type=media_type))

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=st.one_of(strategies))
        def check(case):
            response = case.call_and_validate(headers=auth(token), checks=CHECKS)
            seen.setdefault(case.operation.label, set()).add(response.status_code)

        check()
    # The runs reached past the front door: successes and refusals of every kind were checked.
    statuses = set().union(*seen.values())
    assert {200, 201, 202, 404, 422} <= statuses, seen
    assert all(any(s < 300 for s in found) for label, found in seen.items() if "publish" not in label), seen
