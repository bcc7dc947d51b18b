"""Importing call lists: encodings, delimiters, quoting, Excel's habits, duplicates, and every row accounted for."""

import csv
import io

import pytest
from sqlalchemy import func, select, update

from app.contacts import services
from app.contacts.crypto import current_vault
from app.contacts.models import CallList, CallListStatus, Contact
from app.core import clock
from tests.integration.contacts_support import (
    assert_accounted,
    contacts_of,
    csv_bytes,
    error_rows,
    import_directly,
    outbound_campaign,
    phone_of,
    phones,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)


@pytest.fixture
def setup(session, factory, uploads):
    owner = factory.client()
    return owner, outbound_campaign(factory, owner), uploads


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_a_list_in_each_encoding_people_export_is_read_with_its_chinese_names(session, setup, encoding):
    owner, campaign, uploads = setup
    data = csv_bytes(["张三,13800138000,老客户", "李四,13900139000,", "欧阳娜娜,13700137000,回访"], encoding=encoding)
    call_list = import_directly(session, campaign, owner, data, uploads)
    assert call_list.status == CallListStatus.DONE
    assert (call_list.rows_accepted, call_list.rows_rejected) == (3, 0)
    contacts = contacts_of(session, campaign.id)
    assert [c.name for c in contacts] == ["张三", "李四", "欧阳娜娜"]
    assert [phone_of(c) for c in contacts] == ["+8613800138000", "+8613900139000", "+8613700137000"]
    assert contacts[0].extra == {"note": "老客户"} and contacts[1].extra == {}


def test_a_gbk_file_whose_chinese_starts_after_the_first_64_kb_is_still_read_as_gbk_when_utf8_fails(session, setup):
    owner, campaign, uploads = setup
    rows = [f"王{i},{p}," for i, p in enumerate(phones(3000))]
    call_list = import_directly(session, campaign, owner, csv_bytes(rows, encoding="gbk"), uploads)
    assert call_list.encoding == "gb18030" and call_list.rows_accepted == 3000


def test_semicolons_english_headers_extra_columns_and_crlf_are_understood(session, setup):
    owner, campaign, uploads = setup
    data = csv_bytes(["Wang Fang;+86 138 0013 8000;VIP;Shanghai", "Li Lei;0086-139-0013-9000;;Beijing"],
                     header="Name;Mobile;Notes;City\r\n", newline="\r\n")
    call_list = import_directly(session, campaign, owner, data, uploads)
    assert call_list.delimiter == ";" and call_list.rows_accepted == 2
    first, second = contacts_of(session, campaign.id)
    assert first.extra == {"note": "VIP", "City": "Shanghai"} and second.extra == {"City": "Beijing"}
    assert phone_of(second) == "+8613900139000"


def test_quoted_newlines_and_delimiters_inside_cells_stay_in_their_cell(session, setup):
    owner, campaign, uploads = setup
    data = csv_bytes(['"张三, 先生",13800138000,"第一行\n第二行"', '李四,13900139000,"说 ""你好"""'])
    call_list = import_directly(session, campaign, owner, data, uploads)
    assert (call_list.rows_processed, call_list.rows_accepted) == (2, 2)
    first, second = contacts_of(session, campaign.id)
    assert first.name == "张三, 先生" and first.extra["note"] == "第一行\n第二行"
    assert second.source_row == 3 and second.extra["note"] == '说 "你好"'


def test_numbers_as_people_type_them_are_normalised(session, setup):
    owner, campaign, uploads = setup
    raw = ["13800138000.0", "138 0013 8001", "+8613800138002", "0086 138-0013-8003", "１３８００１３８００４",
           "8613800138005", "138\u200b0013\u200b8006", "021-6888 8888"]
    data = csv_bytes([f"客户{i},{p}," for i, p in enumerate(raw)])
    call_list = import_directly(session, campaign, owner, data, uploads)
    assert call_list.rows_accepted == len(raw), error_rows(uploads, call_list)
    assert [phone_of(c) for c in contacts_of(session, campaign.id)] == [
        "+8613800138000", "+8613800138001", "+8613800138002", "+8613800138003", "+8613800138004",
        "+8613800138005", "+8613800138006", "+862168888888"]


def test_excel_mangled_and_broken_numbers_are_rejected_with_their_row_and_reason(session, setup):
    owner, campaign, uploads = setup
    data = csv_bytes(["甲,1.38001E+10,", "乙,13800138000,", "丙,12345,", "丁,1380013800abc,", "戊,,",
                      "己,1380013800123456789012,", "庚,1.3800138E10,"])
    call_list = import_directly(session, campaign, owner, data, uploads)
    assert_accounted(call_list, 7)
    assert (call_list.rows_accepted, call_list.rows_rejected) == (1, 6)
    errors = {int(r[0]): r[1] for r in error_rows(uploads, call_list)}
    assert set(errors) == {2, 4, 5, 6, 7, 8}
    assert "scientific notation" in errors[2] and "digits were lost" in errors[2]
    assert "scientific notation" in errors[8]
    assert "too short" in errors[4]
    assert "letters" in errors[5]
    assert errors[6] == "No phone number"
    assert "too long" in errors[7]


def test_duplicates_within_the_list_and_against_the_campaign_are_dropped_and_reported(session, setup):
    owner, campaign, uploads = setup
    first = import_directly(session, campaign, owner, csv_bytes(["甲,13800138000,", "乙,13900139000,"]), uploads)
    assert first.rows_accepted == 2
    # Batches of 2 so that a duplicate in a later batch is caught by the database, not only in memory.
    second = import_directly(session, campaign, owner, csv_bytes([
        "丙,13700137000,", "丁,137 0013 7000,", "戊,+86 138 0013 8000,", "己,13600136000,", "庚,13600136000.0,",
    ]), uploads, batch_size=2)
    assert_accounted(second, 5)
    assert (second.rows_accepted, second.rows_rejected) == (2, 3)
    errors = {int(r[0]): r[1] for r in error_rows(uploads, second)}
    assert errors == {3: "Duplicate: same number as row 2",
                      4: "Duplicate: this number is already in the campaign",
                      6: "Duplicate: same number as row 5"}
    assert session.scalar(select(func.count(Contact.id)).where(Contact.campaign_id == campaign.id)) == 4


def test_the_same_number_may_be_on_two_campaigns(session, factory, setup):
    owner, campaign, uploads = setup
    other = outbound_campaign(factory, owner)
    for target in (campaign, other):
        assert import_directly(session, target, owner, csv_bytes(["甲,13800138000,"]), uploads).rows_accepted == 1


def test_formula_cells_are_stored_as_text_and_defused_in_the_error_file(session, setup):
    owner, campaign, uploads = setup
    data = csv_bytes(['"=HYPERLINK(""http://evil.example"",""点我"")",13800138000,+1+1',
                      '@SUM(A1),not a phone,-2+3',
                      '"\tcmd",12,"=1+2"'])
    call_list = import_directly(session, campaign, owner, data, uploads)
    stored = contacts_of(session, campaign.id)
    assert [c.name for c in stored] == ['=HYPERLINK("http://evil.example","点我")']
    assert stored[0].extra == {"note": "+1+1"}
    with open(services.errors_path(uploads, call_list), encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["Row", "Reason", "姓名", "手机", "备注"]
    assert rows[0][2:] == ["'@SUM(A1)", "not a phone", "'-2+3"]
    assert rows[1][2:] == ["'\tcmd", "12", "'=1+2"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_rows_in_equal_accepted_plus_rejected_on_a_messy_file(session, setup):
    owner, campaign, uploads = setup
    good = [f"客户{i},{p},备注{i}" for i, p in enumerate(phones(120))]
    messy = ["坏,1.38E+10,", "重复,13900000000,", "短,123,", ",,", "   ,  ,  ", "多列,13800138000,x,extra!",
             "缺列", "乱码,13800138001,\ufffd", "名字" * 70 + ",13800138002,"]
    call_list = import_directly(session, campaign, owner, csv_bytes(good + messy), uploads, batch_size=50)
    non_blank = len(good) + len(messy) - 2
    assert_accounted(call_list, non_blank)
    assert call_list.rows_blank == 2
    assert call_list.rows_accepted == 120
    assert call_list.rows_rejected == len(error_rows(uploads, call_list)) == 7
    assert session.scalar(select(func.count(Contact.id))) == call_list.rows_accepted
    reasons = " | ".join(r[1] for r in error_rows(uploads, call_list))
    assert "header has 3 columns" in reasons and "No phone number" in reasons and "encoding" in reasons
    assert "longer than 120" in reasons


def test_rows_over_the_row_limit_are_reported_not_dropped(session, setup):
    owner, campaign, uploads = setup
    call_list = import_directly(session, campaign, owner, csv_bytes([f"客户,{p}," for p in phones(12)]), uploads,
                                max_rows=10)
    assert_accounted(call_list, 12)
    assert (call_list.rows_accepted, call_list.rows_rejected) == (10, 2)
    assert all("limit of 10 rows" in r[1] for r in error_rows(uploads, call_list))


def test_an_interrupted_import_resumes_after_its_last_committed_batch(session, setup, monkeypatch):
    owner, campaign, uploads = setup
    rows = [f"客户{i},{p}," for i, p in enumerate(phones(50))] + ["坏,1,"] * 5
    call_list = services.upload_call_list(session, user_id=owner.id, campaign=campaign,
                                          stream=io.BytesIO(csv_bytes(rows)), filename="a.csv", upload_dir=uploads,
                                          max_bytes=10**6, locale="en", now=clock.now())
    session.commit()
    real_prepare = services._prepare
    calls = {"n": 0}

    def crash_on_the_30th_row(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 30:
            raise RuntimeError("worker killed")
        return real_prepare(*args, **kwargs)

    monkeypatch.setattr(services, "_prepare", crash_on_the_30th_row)
    with pytest.raises(RuntimeError):
        services.import_call_list(session, call_list_id=call_list.id, vault=current_vault(), upload_dir=uploads,
                                  max_rows=10**6, now=clock.now(), batch_size=10)
    half = session.get(CallList, call_list.id)
    assert half.status == CallListStatus.QUEUED and half.rows_accepted == 20 and half.records_read == 20
    monkeypatch.setattr(services, "_prepare", real_prepare)
    done = services.import_call_list(session, call_list_id=call_list.id, vault=current_vault(), upload_dir=uploads,
                                     max_rows=10**6, now=clock.now(), batch_size=10)
    assert done.status == CallListStatus.DONE
    assert_accounted(done, 55)
    assert (done.rows_accepted, done.rows_rejected) == (50, 5)
    assert len(error_rows(uploads, done)) == 5
    assert not services.source_path(uploads, done).exists()  # the plain upload is gone once imported


def test_a_finished_or_busy_list_is_not_imported_twice(session, setup):
    owner, campaign, uploads = setup
    call_list = import_directly(session, campaign, owner, csv_bytes(["甲,13800138000,"]), uploads)
    again = services.import_call_list(session, call_list_id=call_list.id, vault=current_vault(), upload_dir=uploads,
                                      max_rows=10, now=clock.now())
    assert again is None
    session.execute(update(CallList).where(CallList.id == call_list.id)
                    .values(status=CallListStatus.IMPORTING, heartbeat_at=clock.now()))
    session.commit()
    assert services.import_call_list(session, call_list_id=call_list.id, vault=current_vault(), upload_dir=uploads,
                                     max_rows=10, now=clock.now()) is None
    assert session.scalar(select(func.count(Contact.id))) == 1


def test_old_upload_and_error_files_are_purged_after_the_retention_period(session, setup):
    from datetime import timedelta

    owner, campaign, uploads = setup
    call_list = import_directly(session, campaign, owner, csv_bytes(["甲,1,"]), uploads)
    path = services.errors_path(uploads, call_list)
    assert path.exists()
    week = timedelta(days=7)
    assert services.purge_call_list_files(session, upload_dir=uploads, now=clock.now(), retention=week) == 0
    later = clock.now() + timedelta(days=8)
    assert services.purge_call_list_files(session, upload_dir=uploads, now=later, retention=week) == 1
    session.commit()
    assert not path.exists()
