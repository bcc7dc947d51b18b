"""Every domain's models, imported so the metadata is complete (migrations, tests)."""

from app.api.models import ApiToken, IdempotencyKey  # noqa: F401
from app.campaigns.models import Campaign, CampaignTag, Shift  # noqa: F401
from app.claims.models import Claim, WaitlistEntry  # noqa: F401
from app.contacts.models import CallList, Contact, ContactAttempt, ContactReveal, InboundContact  # noqa: F401
from app.core.models import OutboxJob  # noqa: F401
from app.insight.models import ix_qa_inspections_campaign_id  # noqa: F401
from app.kb.models import KbArticle, KbFeedback  # noqa: F401
from app.ledger.models import Dispute, LedgerBalance, LedgerEntry, LedgerTransaction, Payout, Settlement  # noqa: F401
from app.members.models import AgentTag, AuditLog, Invitation, Organisation, Tag, User  # noqa: F401
from app.notifications.models import Notification, NotificationMarker, NotificationPreference  # noqa: F401
from app.quality.models import (  # noqa: F401
    AgentRating,
    CampaignRating,
    Inspection,
    MonthlyLeader,
    QaFlag,
    QaRules,
    RatingChange,
    ShiftRating,
    Survey,
)
from app.training.models import (  # noqa: F401
    AssessmentResult,
    Attempt,
    AttemptAnswer,
    BadgeAward,
    Certification,
    CourseVersion,
    ExpertArticle,
    KnowledgeAnswer,
    KnowledgeQuestion,
    LearningDay,
    XpEvent,
)
from app.webhooks.models import WebhookDelivery, WebhookEndpoint  # noqa: F401
