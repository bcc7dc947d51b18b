"""The public REST API under /api/v1: organisation tokens, JSON errors, idempotent POSTs, OpenAPI."""
