"""Call-list parsing without a database: phone normalisation, masking, encodings, delimiters, defusing."""

import codecs

import pytest

from app.contacts import csvfile, phones
from app.contacts.crypto import PhoneVault


@pytest.mark.parametrize("raw, e164", [
    ("13800138000", "+8613800138000"),
    ("13800138000.0", "+8613800138000"),
    ("138 0013 8000", "+8613800138000"),
    ("138-0013-8000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("0086 13800138000", "+8613800138000"),
    ("８６１３８００１３８０００", "+8613800138000"),
    ("１３８００１３８０００", "+8613800138000"),
    ("\u202e13800138000\u200b", "+8613800138000"),
    ("(021) 6888-8888", "+862168888888"),
    ("+1 650 253 0000", "+16502530000"),
])
def test_numbers_as_people_write_them_become_e164(raw, e164):
    assert phones.normalise(raw) == phones.Parsed(e164)


@pytest.mark.parametrize("raw, reason", [
    ("1.38001E+10", phones.SCIENTIFIC),
    ("1.38001e10", phones.SCIENTIFIC),
    ("", phones.EMPTY),
    ("   ", phones.EMPTY),
    ("12345", phones.TOO_SHORT),
    ("1380013800", phones.INVALID),
    ("12800138000", phones.INVALID),
    ("138001380001234567890", phones.TOO_LONG),
    ("138abc38000", phones.LETTERS),
    ("=1+1", phones.INVALID),
])
def test_numbers_that_cannot_be_called_say_why(raw, reason):
    assert phones.normalise(raw).reason == reason


def test_masks_keep_only_enough_to_recognise_a_number():
    assert phones.mask("+8613812345678") == "138****5678"
    assert phones.mask("+862168888888") == "216***8888"
    assert phones.mask("+16502530000") == "+1 650***0000"
    assert phones.dial_string("+8613812345678") == "13812345678"
    assert phones.dial_string("+16502530000") == "+16502530000"


def test_the_vault_round_trips_and_its_hash_is_keyed():
    vault = PhoneVault("a-test-secret-that-is-long-enough")
    blob = vault.encrypt("+8613812345678", campaign_id=7)
    assert b"13812345678" not in blob and blob != vault.encrypt("+8613812345678", campaign_id=7)
    assert vault.decrypt(blob, campaign_id=7) == "+8613812345678"
    assert vault.digest("+8613812345678") == vault.digest("+8613812345678")
    assert vault.digest("+8613812345678") != PhoneVault("another-secret-that-is-long-enough").digest("+8613812345678")
    with pytest.raises(ValueError):
        PhoneVault("short")


@pytest.mark.parametrize("cell, defused", [
    ("=SUM(A1)", "'=SUM(A1)"), ("+86138", "'+86138"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("张三", "张三"), ("", ""), (" =1", " =1"),
])
def test_formula_cells_are_defused(cell, defused):
    assert csvfile.defuse(cell) == defused


@pytest.mark.parametrize("head, encoding", [
    (codecs.BOM_UTF8 + "姓名".encode(), "utf-8-sig"),
    (codecs.BOM_UTF16_LE + "姓名".encode("utf-16-le"), "utf-16"),
    ("姓名,手机".encode(), "utf-8"),
    ("姓名,手机".encode("gbk"), "gb18030"),
])
def test_encodings_are_detected_from_the_head(head, encoding):
    assert csvfile.detect_encoding(head, whole_file=True) == encoding


def test_a_head_cut_inside_a_utf8_character_is_still_utf8():
    assert csvfile.detect_encoding("姓名".encode()[:-1], whole_file=False) == "utf-8"


@pytest.mark.parametrize("label, key", [
    ("手机号码（必填）*", "手机号码"), (" Mobile Number ", "mobilenumber"), ("\ufeff姓名", "姓名"), ("PHONE:", "phone"),
])
def test_header_labels_are_matched_loosely(label, key):
    assert csvfile.header_key(label) == key


def test_layout_of_a_semicolon_file_with_extra_columns(tmp_path):
    path = tmp_path / "l.csv"
    path.write_bytes("Name;Phone;City;City\n张三;13800138000;成都;四川\n".encode("gbk"))
    layout = csvfile.inspect(path)
    assert (layout.encoding, layout.delimiter, layout.phone_index, layout.name_index) == ("gb18030", ";", 1, 0)
    assert layout.extra == [(2, "City"), (3, "City (2)")]


def test_production_refuses_to_start_without_a_real_contact_encryption_key(monkeypatch):
    from config import DEV_CONTACT_ENCRYPTION_KEY, ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "a-real-secret-key-for-this-test-only")
    monkeypatch.setenv("DATABASE_URL", "postgresql://example/db")
    for key in (None, "short", DEV_CONTACT_ENCRYPTION_KEY):
        if key is None:
            monkeypatch.delenv("CONTACT_ENCRYPTION_KEY", raising=False)
        else:
            monkeypatch.setenv("CONTACT_ENCRYPTION_KEY", key)
        with pytest.raises(RuntimeError, match="CONTACT_ENCRYPTION_KEY"):
            ProductionConfig.validate()
    monkeypatch.setenv("CONTACT_ENCRYPTION_KEY", "x" * 43)
    try:
        ProductionConfig.validate()
    except RuntimeError as exc:  # other settings may be missing; never the contact key
        assert "CONTACT_ENCRYPTION_KEY" not in str(exc)
