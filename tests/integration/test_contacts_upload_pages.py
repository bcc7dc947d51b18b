"""Uploading call lists through the pages: files refused at once with a clear 4xx, progress, the error file."""

import codecs

import pytest
from sqlalchemy import func, select

from app.contacts.models import CallList, CallListStatus, Contact
from tests.integration.contacts_support import (
    csv_bytes,
    latest_list,
    outbound_campaign,
    phones,
    upload,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)
from tests.integration.web import assert_page, logged_in, text_of


@pytest.fixture
def client_web(make_browser, factory, uploads):
    owner = factory.client()
    campaign = outbound_campaign(factory, owner)
    return logged_in(make_browser, owner), campaign, owner


def lists(session) -> int:
    session.rollback()
    return session.scalar(select(func.count(CallList.id)))


def test_an_upload_is_imported_and_its_page_shows_the_counts(session, client_web, uploads):
    web, campaign, _ = client_web
    data = csv_bytes([f"客户{i},{p}," for i, p in enumerate(phones(30))] + ["坏,1.38001E+10,"])
    response = upload(web, campaign.id, data)
    assert response.status_code == 302
    call_list = latest_list(session)
    assert response.headers["Location"].endswith(f"/client/call-lists/{call_list.id}")
    assert call_list.status == CallListStatus.DONE
    assert (call_list.rows_processed, call_list.rows_accepted, call_list.rows_rejected) == (31, 30, 1)
    page = text_of(assert_page(web.get(f"/client/call-lists/{call_list.id}")))
    assert "Imported" in page and 'http-equiv="refresh"' not in page
    assert "Download the rejected rows" in page
    download = web.get(f"/client/call-lists/{call_list.id}/errors.csv", buffered=True)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.headers["Cache-Control"] == "no-store"
    body = download.get_data()
    assert body.startswith(codecs.BOM_UTF8)
    assert "scientific notation" in body.decode("utf-8-sig")
    contacts = text_of(assert_page(web.get(f"/client/campaigns/{campaign.id}/contacts")))
    assert "139****0000" in contacts and "13900000000" not in contacts


def test_the_list_page_refreshes_itself_while_the_import_runs(session, client_web, factory):
    from app.core import clock

    web, campaign, owner = client_web
    session.add(CallList(campaign_id=campaign.id, uploaded_by_id=owner.id, filename="big.csv", stored_name="x.csv",
                         size_bytes=10, encoding="utf-8", delimiter=",", locale="en", status=CallListStatus.IMPORTING,
                         rows_processed=5000, rows_accepted=4990, rows_rejected=10, rows_blank=0, records_read=5000,
                         error_bytes=0, created_at=clock.now()))
    session.commit()
    page = assert_page(web.get(f"/client/call-lists/{latest_list(session).id}"))
    html = page.get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="3">' in html
    assert "<script" not in html
    assert "4990" in html and "Importing" in html
    assert web.get(f"/client/call-lists/{latest_list(session).id}/errors.csv").status_code == 404


@pytest.mark.parametrize("data, filename, message", [
    (b"", "list.csv", "The file is empty."),
    (b"   \r\n\r\n", "list.csv", "The file is empty."),
    ("姓名,手机,备注\n".encode(), "list.csv", "header row but no customers"),
    ("姓名,手机,备注\n,,\n  ,  ,\n".encode(), "list.csv", "header row but no customers"),
    ("姓名,地址\n张三,成都\n".encode(), "list.csv", "No phone column found"),
    ("姓名,手机,电话\n张三,13800138000,13900139000\n".encode(), "list.csv", "Two columns hold the same thing"),
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 200, "list.csv", "Excel workbook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "list.csv", "not a CSV text file"),
    (bytes(range(128, 256)) * 40, "list.csv", "cannot be read"),
    (csv_bytes(["张三,13800138000,"]), "list.xlsx", "Upload a CSV file"),
    (csv_bytes(["张三,13800138000,"]), "list.exe", "Upload a CSV file"),
])
def test_files_that_cannot_be_a_call_list_are_refused_at_upload_with_a_reason(session, client_web, data, filename,
                                                                               message, uploads):
    web, campaign, _ = client_web
    response = upload(web, campaign.id, data, filename=filename)
    assert 400 <= response.status_code < 500, response.status_code
    assert message in text_of(response)
    assert lists(session) == 0
    assert not any(uploads.glob("call_lists/*.csv"))  # the refused file is not kept


def test_a_file_over_the_size_limit_is_a_413(session, client_web, app, monkeypatch, uploads):
    web, campaign, _ = client_web
    # (kept under the 500 KB at which the test client spools a request body to a temporary file)
    monkeypatch.setitem(app.config, "CALL_LIST_MAX_BYTES", 100 * 1024)
    data = csv_bytes([f"客户,{p}," for p in phones(8000)])
    assert 100 * 1024 < len(data) < 500 * 1024
    response = upload(web, campaign.id, data)
    assert response.status_code == 413
    assert "larger than 100 KB" in text_of(response)
    assert lists(session) == 0
    assert not any(uploads.glob("call_lists/*.csv"))


def test_a_body_over_the_request_limit_is_a_413_page_not_a_crash(client_web, app, monkeypatch):
    web, campaign, _ = client_web
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1024)
    response = upload(web, campaign.id, csv_bytes([f"客户,{p}," for p in phones(200)]))
    assert response.status_code == 413


def test_no_file_is_a_400(client_web):
    web, campaign, _ = client_web
    response = web.post(f"/client/campaigns/{campaign.id}/call-lists", {}, content_type="multipart/form-data")
    assert_page(response, 400)
    assert "Choose a CSV file." in text_of(response)


def test_another_clients_campaign_and_list_are_404(session, client_web, make_browser, factory, uploads):
    web, campaign, _ = client_web
    assert upload(web, campaign.id, csv_bytes(["甲,13800138000,", "乙,1,"])).status_code == 302
    call_list = latest_list(session)
    stranger = logged_in(make_browser, factory.client())
    assert upload(stranger, campaign.id, csv_bytes(["丙,13900139000,"])).status_code == 404
    for url in (f"/client/campaigns/{campaign.id}/contacts", f"/client/call-lists/{call_list.id}",
                f"/client/call-lists/{call_list.id}/errors.csv", "/client/call-lists/999999"):
        assert_page(stranger.get(url), 404)
    assert session.scalar(select(func.count(Contact.id))) == 1


def test_agents_cannot_open_client_pages(client_web, make_browser, factory):
    _, campaign, _ = client_web
    agent = logged_in(make_browser, factory.agent())
    assert_page(agent.get(f"/client/campaigns/{campaign.id}/contacts"), 403)
    assert upload(agent, campaign.id, csv_bytes(["甲,13800138000,"])).status_code == 403


def test_inbound_campaigns_take_no_call_list(session, make_browser, factory, uploads):
    owner = factory.client()
    inbound = factory.campaign(owner, tags=(), kind="inbound")
    web = logged_in(make_browser, owner)
    page = text_of(assert_page(web.get(f"/client/campaigns/{inbound.id}/contacts")))
    assert "Inbound campaigns have no call list" in page
    response = upload(web, inbound.id, csv_bytes(["甲,13800138000,"]))
    assert response.status_code == 409 and lists(session) == 0


def test_a_hostile_filename_is_shown_as_text(session, client_web):
    web, campaign, _ = client_web
    response = upload(web, campaign.id, csv_bytes(["甲,13800138000,"]),
                      filename="../../<img src=x onerror=alert(1)>.csv")
    assert response.status_code == 302
    call_list = latest_list(session)
    assert call_list.filename.endswith("<img src=x onerror=alert(1)>.csv") and "/" not in call_list.filename
    assert call_list.stored_name != call_list.filename
    html = web.get(f"/client/call-lists/{call_list.id}").get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.csv" in html


def test_a_csrf_less_upload_is_refused(session, client_web):
    web, campaign, _ = client_web
    import io

    response = web.post(f"/client/campaigns/{campaign.id}/call-lists",
                        {"file": (io.BytesIO(csv_bytes(["甲,13800138000,"])), "a.csv")}, csrf=False,
                        content_type="multipart/form-data")
    assert response.status_code == 400 and lists(session) == 0
