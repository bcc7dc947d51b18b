"""Helpers for the knowledge-base tests: articles through the services, an agent working a campaign."""

from __future__ import annotations

from app.core import clock
from app.kb import services
from tests.integration.contacts_support import checked_in_claims


def article(session, author, campaign, title, body, *, kind="faq", tags="", category=None):
    created = services.create_article(session, author=author, campaign=campaign, now=clock.now(),
                                      data=services.ArticleInput(kind=kind, title=title, body=body, tags=tags,
                                                                 category=category))
    session.commit()
    return created


def working_agent(session, factory, campaign):
    """An agent checked in on the campaign's first shift: (agent, claim_id)."""
    agent = factory.agent()
    (claim_id,) = checked_in_claims(session, factory, campaign, [agent])
    return agent, claim_id
