"""Phone numbers at rest and on screen: encrypted and hashed in the database, masked on pages, revealed only to
the agent holding the contact during their checked-in shift, and every reveal logged."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from app.claims.models import Claim
from app.contacts import services
from app.contacts.crypto import PhoneVault, current_vault
from app.contacts.models import Contact, ContactReveal
from app.core import clock
from tests.integration.contacts_support import (
    checked_in_claims,
    csv_bytes,
    import_directly,
    outbound_campaign,
    uploads_fixture,  # noqa: F401  (the `uploads` fixture)
)
from tests.integration.web import assert_page, logged_in, text_of

NUMBERS = ["13812345678", "13987654321", "15011112222"]


@pytest.fixture
def shop(session, factory, uploads):
    owner = factory.client()
    campaign = outbound_campaign(factory, owner)
    import_directly(session, campaign, owner, csv_bytes([f"客户{i},{n}," for i, n in enumerate(NUMBERS)]), uploads)
    agents = [factory.agent(), factory.agent()]
    claim_ids = checked_in_claims(session, factory, campaign, agents)
    return owner, campaign, agents, claim_ids


def test_the_raw_phone_digits_are_nowhere_in_the_contacts_table(session, shop, app):
    session.rollback()
    with app.extensions["sqlalchemy"].engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM contacts")).all()
    assert len(rows) == 3
    dump = repr(rows)
    for cell in (value for row in rows for value in row):
        if isinstance(cell, (bytes, memoryview)):
            dump += bytes(cell).hex() + bytes(cell).decode("latin-1")
    for number in NUMBERS:
        for fragment in (number, number[3:], number[-8:], number.encode().hex()):
            assert fragment not in dump


def test_the_stored_number_decrypts_only_with_the_key_and_only_for_its_campaign(session, shop):
    contact = session.scalars(select(Contact).order_by(Contact.id)).first()
    assert current_vault().decrypt(contact.phone_ciphertext, campaign_id=contact.campaign_id) == "+8613812345678"
    with pytest.raises(ValueError):
        current_vault().decrypt(contact.phone_ciphertext, campaign_id=contact.campaign_id + 1)
    with pytest.raises(ValueError):
        PhoneVault("another-key-of-enough-length-000000").decrypt(contact.phone_ciphertext,
                                                                  campaign_id=contact.campaign_id)
    # The duplicate hash is keyed: the same number hashes differently under another key.
    assert PhoneVault("another-key-of-enough-length-000000").digest("+8613812345678") != bytes(contact.phone_hash)


def test_clients_see_masked_numbers_only(shop, make_browser):
    owner, campaign, _, _ = shop
    page = text_of(assert_page(logged_in(make_browser, owner).get(f"/client/campaigns/{campaign.id}/contacts")))
    assert "138****5678" in page and "139****4321" in page
    for number in NUMBERS:
        assert number not in page


def _reveal(web, claim_id, contact_id):
    return web.post(f"/agent/claims/{claim_id}/console/contacts/{contact_id}/reveal",
                    environ_base={"REMOTE_ADDR": "203.0.113.9"})


def test_the_holder_reveals_the_number_with_a_tel_link_and_the_reveal_is_logged(session, shop, make_browser):
    _, campaign, (a, _), (claim_a, _) = shop
    web = logged_in(make_browser, a)
    web.post(f"/agent/claims/{claim_a}/console/next")
    contact_id = services.held_contact_id(session, agent_id=a.id)[0]
    session.rollback()
    page = _reveal(web, claim_a, contact_id)
    assert_page(page, 200)
    html = page.get_data(as_text=True)
    assert 'href="tel:13812345678"' in html
    assert page.headers["Cache-Control"] == "no-store"
    again = web.get(f"/agent/claims/{claim_a}/console").get_data(as_text=True)
    assert "13812345678" not in again and "138****5678" in again
    _reveal(web, claim_a, contact_id)
    session.rollback()
    log = session.scalars(select(ContactReveal).order_by(ContactReveal.id)).all()
    expected = (a.id, contact_id, claim_a, "203.0.113.9")
    assert [(r.agent_id, r.contact_id, r.claim_id, r.ip) for r in log] == [expected] * 2
    assert all(r.revealed_at == clock.now() for r in log)


def test_nobody_else_can_reveal_and_failed_attempts_log_nothing(session, shop, make_browser, factory, uploads):
    owner, campaign, (a, b), (claim_a, claim_b) = shop
    web_a, web_b = logged_in(make_browser, a), logged_in(make_browser, b)
    web_a.post(f"/agent/claims/{claim_a}/console/next")
    held = services.held_contact_id(session, agent_id=a.id)[0]
    session.rollback()
    unheld = session.scalar(select(Contact.id).where(Contact.status == "new"))
    assert _reveal(web_b, claim_a, held).status_code == 404  # not b's claim
    assert _reveal(web_b, claim_b, held).status_code == 403  # b's claim, a's contact
    assert _reveal(web_a, claim_a, unheld).status_code == 403  # a's claim, nobody's contact
    assert _reveal(web_a, claim_a, 999_999).status_code == 404
    other = outbound_campaign(factory)
    import_directly(session, other, owner, csv_bytes(["外,13600136000,"]), uploads)
    foreign = session.scalar(select(Contact.id).where(Contact.campaign_id == other.id))
    assert _reveal(web_a, claim_a, foreign).status_code == 404  # another campaign's contact
    assert logged_in(make_browser, owner).post(
        f"/agent/claims/{claim_a}/console/contacts/{held}/reveal").status_code == 403  # a client
    assert web_a.get(f"/agent/claims/{claim_a}/console/contacts/{held}/reveal").status_code == 405  # not a GET
    assert "13812345678" not in _reveal(web_b, claim_b, held).get_data(as_text=True)
    session.rollback()
    assert session.scalars(select(ContactReveal)).all() == []


def test_reveal_ends_with_the_checked_in_shift(session, shop, make_browser):
    _, campaign, (a, _), (claim_a, _) = shop
    web = logged_in(make_browser, a)
    web.post(f"/agent/claims/{claim_a}/console/next")
    held = services.held_contact_id(session, agent_id=a.id)[0]
    session.rollback()
    ends_at = session.get(Claim, claim_a).ends_at
    clock.freeze(ends_at + timedelta(minutes=1))
    assert _reveal(web, claim_a, held).status_code == 409
    clock.freeze(ends_at - timedelta(minutes=5))
    session.execute(update(Claim).where(Claim.id == claim_a).values(status="completed"))
    session.commit()
    assert _reveal(web, claim_a, held).status_code == 409
    session.rollback()
    assert session.scalars(select(ContactReveal)).all() == []
