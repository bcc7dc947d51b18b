"""Every domain's models, imported so the metadata is complete (migrations, tests)."""

from app.campaigns.models import Campaign, CampaignTag, Shift  # noqa: F401
from app.claims.models import Claim, WaitlistEntry  # noqa: F401
from app.core.models import OutboxJob  # noqa: F401
from app.members.models import AgentTag, AuditLog, Invitation, Organisation, Tag, User  # noqa: F401
from app.notifications.models import Notification  # noqa: F401
