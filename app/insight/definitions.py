"""What each dashboard figure is called, how it is defined and how it is shown (pages and exports share it)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.core.money import format_fen

DASH = "—"  # an undefined ratio (zero denominator)


@dataclass(frozen=True)
class Metric:
    key: str  # the key in campaign_metrics()
    label: object  # lazy translated
    definition: object  # lazy translated
    kind: str  # ratio | count | fen | seconds
    numerator: str | None = None  # keys shown as "n of d" under a ratio
    denominator: str | None = None
    applies_to: str | None = None  # "inbound" / "outbound": shown only on campaigns of that kind (exports keep all)

    def applies(self, kind: str) -> bool:
        if self.applies_to is None:
            return True
        return (kind == "inbound") == (self.applies_to == "inbound")


@dataclass(frozen=True)
class Section:
    title: object
    metrics: tuple[Metric, ...]


SECTIONS: tuple[Section, ...] = (
    Section(_l("Seats and attendance"), (
        Metric("fill_rate", _l("Fill rate"), _l("Seats claimed ÷ seats offered (a no-show still held the seat)."),
               "ratio", "seats_claimed", "seats_offered"),
        Metric("show_up_rate", _l("Show-up rate"),
               _l("Claims checked in by start + grace ÷ claims due (check-in window closed)."),
               "ratio", "claims_showed_up", "claims_due"),
        Metric("no_show_rate", _l("No-show rate"), _l("Claims due that never checked in ÷ claims due."),
               "ratio", "no_shows", "claims_due"),
    )),
    Section(_l("Contacts"), (
        Metric("contacts_handled", _l("Contacts handled"),
               _l("Outbound calls with a recorded outcome plus inbound conversations logged."), "count"),
        Metric("contact_rate", _l("Contact rate (outbound)"),
               _l("Customers reached (on the line) ÷ customers called."),
               "ratio", "outbound_contacts_reached", "outbound_contacts_attempted", "outbound"),
        Metric("success_rate", _l("Success rate (outbound)"),
               _l("Customers converted or reactivated ÷ customers reached."),
               "ratio", "outbound_contacts_succeeded", "outbound_contacts_reached", "outbound"),
        Metric("aht_seconds", _l("Average handle time"),
               _l("Talk + hold + after-contact work, as logged ÷ contacts handled."), "seconds"),
        Metric("first_contact_resolution", _l("First-contact resolution (inbound)"),
               _l("Inbound conversations resolved without escalation and without the same customer contacting "
                  "the campaign again within 7 days ÷ inbound conversations. Conversations logged without a "
                  "customer reference count on their result alone."),
               "ratio", "inbound_first_contact_resolved", "inbound_contacts", "inbound"),
        Metric("repeat_contact_rate", _l("Repeat contacts (inbound)"),
               _l("Inbound conversations the same customer (same phone or order/account number) followed with "
                  "another one within 7 days ÷ inbound conversations."),
               "ratio", "inbound_repeat_contacts", "inbound_contacts", "inbound"),
        Metric("complaint_rate", _l("Complaint rate"),
               _l("Contacts in the complaint category ÷ contacts handled."), "ratio", "complaints",
               "contacts_handled"),
    )),
    Section(_l("Customer satisfaction"), (
        Metric("csat", _l("CSAT"), _l("Surveys rated 4 or 5 ÷ surveys answered."), "ratio", "csat_satisfied",
               "surveys_answered"),
        Metric("survey_response_rate", _l("Survey response rate"), _l("Surveys answered ÷ surveys sent."),
               "ratio", "surveys_answered", "surveys_sent"),
    )),
    Section(_l("Quality"), (
        Metric("qa_flags_confirmed", _l("Confirmed QA flags"),
               _l("Flags raised by the campaign's QA rules that you or an admin confirmed."), "count"),
        Metric("qa_pass_rate", _l("QA pass rate"),
               _l("Contacts inspected without a confirmed flag ÷ contacts inspected."), "ratio", None,
               "qa_inspected"),
    )),
    Section(_l("Money"), (
        Metric("settled_fen", _l("Settled"), _l("Pay and commission of settled shifts (reversals deducted)."), "fen"),
        Metric("cost_per_contact_fen", _l("Cost per contact"),
               _l("Settled pay + commission ÷ contacts those settlements paid for."), "fen"),
        Metric("cost_per_success_fen", _l("Cost per success"),
               _l("Settled pay + commission ÷ successes (converted, reactivated) they paid for."), "fen",
               applies_to="outbound"),
        Metric("budget_burn", _l("Budget burn"),
               _l("Settled + committed to seats not yet settled ÷ money in escrow."), "ratio", None, None),
    )),
)

ALL_METRICS: tuple[Metric, ...] = tuple(m for s in SECTIONS for m in s.metrics)


def shown(value, kind: str) -> str:
    """A figure as people read it: 75.0%, 3:20, ¥27.25, 1,234 — or "—" when undefined."""
    if value is None:
        return DASH
    if kind == "ratio":
        return f"{value * 100:.1f}%"
    if kind == "seconds":
        seconds = int(round(value))
        return f"{seconds // 60}:{seconds % 60:02d}"
    if kind == "fen":
        return f"¥{format_fen(value)}"
    return f"{value:,}"
