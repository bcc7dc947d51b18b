"""Test data made through the real services (the same path users take)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlalchemy import insert

from app.campaigns import services as campaigns
from app.campaigns.models import Campaign, Shift, ShiftStatus
from app.core import clock
from app.core.timefmt import local_today
from app.members import services as members
from app.members.models import Status, Tier, User

PASSWORD = "password123"
_seq = itertools.count(1)


class Factory:
    def __init__(self, session):
        self.session = session
        self._admin: User | None = None

    def admin(self, email: str | None = None) -> User:
        user = members.create_admin(self.session, email=email or f"admin{next(_seq)}@example.cn", name="管理员",
                                    password=PASSWORD, now=clock.now())
        self.session.commit()
        return user

    def _system_admin(self) -> User:
        if self._admin is None:
            self._admin = self.admin()
        return self._admin

    def agent(self, email: str | None = None, *, tags: tuple[str, ...] = (), tier: int = Tier.CERTIFIED,
              status: str = Status.ACTIVE, city: str = "成都", languages: tuple[str, ...] = ("lang.mandarin",),
              tag_expires_at: datetime | None = None) -> User:
        n = next(_seq)
        agent = members.register_agent(self.session, members.AgentSignup(
            name=f"测试坐席{n}", email=email or f"agent{n}@example.cn", phone=f"138{n:08d}", city=city,
            languages=languages, password=PASSWORD), now=clock.now())
        self.session.commit()
        if status == Status.PENDING:
            return agent
        admin = self._system_admin()
        members.verify_agent(self.session, admin=admin, agent_id=agent.id, now=clock.now())
        if tier != Tier.TRAINEE:
            members.set_tier(self.session, actor_id=admin.id, agent_id=agent.id, tier=tier, reason="test",
                             now=clock.now())
        for code in tags:
            members.grant_tag(self.session, admin=admin, agent_id=agent.id, tag_code=code, reason="test",
                              expires_at=tag_expires_at, now=clock.now())
        if status == Status.SUSPENDED:
            members.set_status(self.session, admin=admin, user_id=agent.id, status=Status.SUSPENDED,
                               reason="test", now=clock.now())
        self.session.commit()
        return agent

    def client(self, email: str | None = None, organisation: str | None = None) -> User:
        n = next(_seq)
        user = members.register_client(self.session, members.ClientSignup(
            organisation=organisation or f"测试企业{n}", industry="industry.ecommerce", name=f"客户{n}",
            email=email or f"client{n}@example.cn", phone=f"139{n:08d}", password=PASSWORD), now=clock.now())
        self.session.commit()
        return user

    def campaign(self, owner: User | None = None, *, tags: tuple[str, ...] = ("industry.ecommerce",),
                 min_tier: int = Tier.CERTIFIED, kind: str = "inbound", publish: bool = True,
                 shifts: list[tuple[float, float, int]] = ((24, 2, 3),), rate_fen: int = 3800,
                 name: str = "双11 售后") -> Campaign:
        """`shifts`: (hours from now to start, length in hours, seats)."""
        owner = owner or self.client()
        now = clock.now()
        today = local_today(now)
        data = campaigns.CampaignInput(
            name=name, kind=kind, industry="industry.ecommerce", description="", script="您好……",
            required_tags=tags, min_tier=min_tier, rate_fen_per_hour=rate_fen, bonus_fen_per_contact=50,
            budget_fen=1_000_000, starts_on=today, ends_on=today + timedelta(days=30))
        campaign = campaigns.create_campaign(self.session, user=owner, now=now, today=today, data=data)
        self.add_shifts(campaign, shifts)
        if publish:
            campaigns.publish_campaign(self.session, campaign, now=now)
        self.session.commit()
        return campaign

    def add_shifts(self, campaign: Campaign, shifts) -> list[Shift]:
        now = clock.now()
        rows = [
            {"campaign_id": campaign.id, "starts_at": now + timedelta(hours=start),
             "ends_at": now + timedelta(hours=start + length), "seats": seats, "seats_taken": 0,
             "status": ShiftStatus.OPEN, "created_at": now}
            for start, length, seats in shifts
        ]
        if rows:
            self.session.execute(insert(Shift), rows)
        self.session.commit()
        return list(self.session.query(Shift).filter_by(campaign_id=campaign.id).order_by(Shift.starts_at))

    def shifts(self, campaign: Campaign) -> list[Shift]:
        return list(self.session.query(Shift).filter_by(campaign_id=campaign.id).order_by(Shift.starts_at, Shift.id))
