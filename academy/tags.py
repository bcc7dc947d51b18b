"""Tag codes a course may grant (mirrors the members domain; the app may pass its own set)."""

from __future__ import annotations

KNOWN_TAG_CODES: frozenset[str] = frozenset(
    {
        "industry.ecommerce",
        "industry.food_delivery",
        "industry.finance",
        "industry.telecom",
        "industry.utilities",
        "industry.travel",
        "skill.inbound_support",
        "skill.outbound_callback",
        "skill.satisfaction_survey",
        "skill.marketing_reactivation",
        "skill.complaint_handling",
        "skill.after_sales",
        "lang.mandarin",
        "lang.cantonese",
        "lang.english",
        "lang.sichuanese",
    }
)
