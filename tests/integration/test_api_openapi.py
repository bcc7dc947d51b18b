"""The OpenAPI document describes exactly the routes the API has, and is a valid OpenAPI 3.1 document."""

from __future__ import annotations

import re

from tests.integration.api_support import assert_error


def _rules(app) -> dict[str, set[str]]:
    """/api/v1 rules of the URL map as OpenAPI paths ({name}) with their methods."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
            found.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    return found


def test_every_api_route_is_documented_and_every_documented_operation_exists(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    document = response.get_json()
    documented = {path: {m for m in item if m in ("get", "post", "put", "patch", "delete")}
                  for path, item in document["paths"].items()}
    assert documented == _rules(app)


def test_the_document_is_valid_openapi_3_1_with_bearer_auth_and_one_error_shape(client):
    import schemathesis
    from jsonschema_rs import validator_for

    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearerAuth"][
            "description"]}
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(v) for v in _rules_from(document).values())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if path != "/api/v1/openapi.json":
                assert {"401", "429"} <= set(operation["responses"]), (method, path)
            if method == "post" and path != "/api/v1/openapi.json":
                assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    components = {"schemas": document["components"]["schemas"]}
    error_validator = validator_for({"$ref": "#/components/schemas/Error", "components": components})
    assert error_validator.is_valid({"error": {"code": "not_found", "message": "x", "details": None}})
    assert not error_validator.is_valid({"error": {"code": "not_found"}})
    for name in document["components"]["schemas"]:
        validator_for({"$ref": f"#/components/schemas/{name}", "components": components})  # every schema compiles


def _rules_from(document) -> dict[str, set[str]]:
    return {path: set(item) for path, item in document["paths"].items()}


def test_errors_under_the_api_prefix_are_json_even_for_unrouted_urls(client):
    assert_error(client.get("/api/v1/"), 404, "not_found")
    assert_error(client.get("/api/v2/campaigns"), 404, "not_found")
    assert_error(client.post("/api/v1/openapi.json"), 405, "method_not_allowed")
