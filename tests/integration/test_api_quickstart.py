"""docs/examples/api_quickstart.py works against a live server (werkzeug in a thread, real HTTP)."""

from __future__ import annotations

import importlib.util
import io
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app.core import clock
from app.ledger import services as ledger
from app.ledger.payments import Payment
from tests.integration.api_support import make_token
from tests.integration.contacts_support import uploads_fixture  # noqa: F401  (the `uploads` fixture)

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "api_quickstart.py"
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "sample-call-list.csv"


@pytest.fixture
def server(app):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


def _script():
    spec = importlib.util.spec_from_file_location("api_quickstart", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_quickstart_script_creates_uploads_publishes_and_reads_figures(server, session, factory, uploads):
    owner = factory.client()
    ledger.top_up(session, organisation_id=owner.organisation_id, now=clock.now(), payment=Payment(
        payment_id="quickstart", amount_fen=200_000, succeeded=True, provider="test"))
    session.commit()
    token = make_token(session, owner)
    out = io.StringIO()
    result = _script().run(server, token, SAMPLE.read_bytes(), publish=True, out=out,
                                today=clock.now().date())
    assert result["campaign"]["status"] == "published"
    assert result["shifts"]["created"] == 5
    assert result["call_list"]["status"] == "done" and result["call_list"]["rows_accepted"] == 30
    assert result["stats"]["metrics"]["campaign_id"] == result["campaign"]["id"]
    assert len(result["contacts"]["data"]) == 5 and "****" in result["contacts"]["data"][0]["phone_masked"]
    assert "call list" in out.getvalue()


def test_the_quickstart_script_reports_api_errors_and_exits_non_zero(server, capsys):
    assert _script().main(["--base-url", server, "--token", "sl_wrong", "--call-list", str(SAMPLE)]) == 1
    assert "401 invalid_token" in capsys.readouterr().err
