#!/usr/bin/env python3
"""Surgeline API quickstart: create a campaign with shifts, upload a call list, read its statistics.

Standard library only. Usage:

    SURGELINE_TOKEN=sl_... python docs/examples/api_quickstart.py --base-url http://127.0.0.1:5000 \
        --call-list docs/sample-call-list.csv

The token needs the write scope (Team → API tokens). Publishing moves the budget into escrow, so it only
happens with --publish and money in the wallet. Every POST carries an Idempotency-Key, so running a step
again after a network error cannot create a second campaign.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import date, timedelta


class ApiError(Exception):
    def __init__(self, status: int, body: dict):
        error = body.get("error", {}) if isinstance(body, dict) else {}
        super().__init__(f"{status} {error.get('code')}: {error.get('message')} {error.get('details') or ''}")
        self.status, self.code = status, error.get("code")


class Client:
    def __init__(self, base_url: str, token: str):
        self.base_url, self.token = base_url.rstrip("/"), token

    def request(self, method: str, path: str, *, json_body=None, data: bytes | None = None,
                content_type: str | None = None, idempotency_key: str | None = None, retries: int = 3) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json", "Accept-Language": "en"}
        if json_body is not None:
            data, content_type = json.dumps(json_body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        for attempt in range(retries + 1):
            request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    return json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as exc:
                body = json.loads(exc.read() or b"{}")
                if exc.code in (429, 503) and attempt < retries:  # rate limited or busy: wait as told, retry
                    time.sleep(min(int(exc.headers.get("Retry-After", "1")), 60))
                    continue
                raise ApiError(exc.code, body) from None
        raise AssertionError("unreachable")


def run(base_url: str, token: str, call_list: bytes, *, publish: bool = False, wait_seconds: float = 60,
        today: date | None = None, out=sys.stdout) -> dict:
    api = Client(base_url, token)
    today = today or date.today()
    first_day = today + timedelta(days=1)
    campaign = api.request("POST", "/api/v1/campaigns", idempotency_key=str(uuid.uuid4()), json_body={
        "name": "API quickstart: member reactivation", "kind": "outbound_marketing",
        "industry": "industry.ecommerce", "rate_fen_per_hour": 3800, "bonus_fen_per_contact": 50,
        "budget_fen": 200_000, "starts_on": today.isoformat(), "ends_on": (today + timedelta(days=14)).isoformat(),
        "script": "您好，这里是……",
    })
    print(f"campaign {campaign['id']} created ({campaign['status']})", file=out)
    shifts = api.request("POST", f"/api/v1/campaigns/{campaign['id']}/shifts", idempotency_key=str(uuid.uuid4()),
                         json_body={
        "shifts": [{"starts_at": f"{first_day.isoformat()}T19:00:00+08:00",
                    "ends_at": f"{first_day.isoformat()}T21:00:00+08:00", "seats": 5}],
        "pattern": {"first_day": first_day.isoformat(), "last_day": (first_day + timedelta(days=1)).isoformat(),
                    "day_start": "09:00", "day_end": "13:00", "block_minutes": 120, "seats": 10},
    })
    print(f"{shifts['created']} shifts added", file=out)
    if publish:
        campaign = api.request("POST", f"/api/v1/campaigns/{campaign['id']}/publish",
                               idempotency_key=str(uuid.uuid4()))
        print(f"campaign {campaign['status']}", file=out)
    listed = api.request("POST", f"/api/v1/campaigns/{campaign['id']}/call-lists?filename=quickstart.csv",
                         data=call_list, content_type="text/csv", idempotency_key=str(uuid.uuid4()))
    deadline = time.monotonic() + wait_seconds
    while listed["status"] in ("queued", "importing") and time.monotonic() < deadline:
        time.sleep(1)
        listed = api.request("GET", f"/api/v1/call-lists/{listed['id']}")
    print(f"call list {listed['id']}: {listed['status']}, {listed['rows_accepted']} accepted, "
          f"{listed['rows_rejected']} rejected", file=out)
    stats = api.request("GET", f"/api/v1/campaigns/{campaign['id']}/stats")
    print(json.dumps(stats["metrics"], ensure_ascii=False, indent=2)[:2000], file=out)
    contacts = api.request("GET", f"/api/v1/campaigns/{campaign['id']}/contacts?limit=5")
    for contact in contacts["data"]:
        print(f"  {contact['phone_masked']} {contact['status']} attempts={contact['attempts']}", file=out)
    return {"campaign": campaign, "shifts": shifts, "call_list": listed, "stats": stats, "contacts": contacts}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", default=os.environ.get("SURGELINE_URL", "http://127.0.0.1:5000"))
    parser.add_argument("--token", default=os.environ.get("SURGELINE_TOKEN"), help="or SURGELINE_TOKEN")
    parser.add_argument("--call-list", default=os.path.join(os.path.dirname(__file__), "..", "sample-call-list.csv"))
    parser.add_argument("--publish", action="store_true", help="publish (moves the budget into escrow)")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("a token is needed: --token or SURGELINE_TOKEN")
    with open(args.call_list, "rb") as handle:
        data = handle.read()
    try:
        run(args.base_url, args.token, data, publish=args.publish)
    except ApiError as exc:
        print(f"API error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
