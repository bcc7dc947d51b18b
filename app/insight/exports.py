"""The campaign dashboard as CSV and XLSX: the metrics (raw value, as shown, definition), agents and days.

Every text cell that a spreadsheet would run as a formula (= + - @ tab CR first) gets a leading apostrophe
(`app.contacts.csvfile.defuse`); numbers stay numbers. Agent names are the obvious carrier.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.contacts.csvfile import defuse
from app.insight.definitions import ALL_METRICS, shown

# Counts and money behind the ratios, exported after the headline metrics (key, label).
EXTRA = (
    ("shifts", _l("Shifts")), ("seats_offered", _l("Seats offered")), ("seats_claimed", _l("Seats claimed")),
    ("claims_due", _l("Claims due")), ("claims_showed_up", _l("Claims checked in on time")),
    ("no_shows", _l("No-shows")), ("late_cancellations", _l("Late cancellations")),
    ("worked_minutes", _l("Minutes worked")), ("outbound_attempts", _l("Outbound attempts")),
    ("outbound_contacts_attempted", _l("Customers attempted")), ("outbound_contacts_reached", _l("Customers reached")),
    ("outbound_contacts_succeeded", _l("Customers with a success")), ("inbound_contacts", _l("Inbound contacts")),
    ("inbound_resolved", _l("Inbound contacts resolved")),
    ("inbound_first_contact_resolved", _l("Inbound contacts resolved at first contact")),
    ("inbound_repeat_contacts", _l("Inbound repeat contacts")), ("handle_seconds", _l("Handle time (seconds)")),
    ("complaints", _l("Complaints")), ("surveys_sent", _l("Surveys sent")),
    ("surveys_answered", _l("Surveys answered")), ("csat_satisfied", _l("Surveys rated 4 or 5")),
    ("qa_inspected", _l("Contacts inspected")), ("qa_flags_open", _l("QA flags open")),
    ("qa_flags_dismissed", _l("QA flags dismissed")), ("qa_contacts_flagged", _l("Contacts flagged")),
    ("budget_fen", _l("Budget (fen)")), ("escrowed_fen", _l("Escrowed (fen)")),
    ("settled_pay_fen", _l("Agent pay settled (fen)")), ("settled_commission_fen", _l("Commission settled (fen)")),
    ("committed_fen", _l("Committed to held seats (fen)")), ("refunded_fen", _l("Refunded (fen)")),
    ("escrow_held_fen", _l("Still in escrow (fen)")), ("settled_contacts", _l("Contacts paid")),
    ("settled_successes", _l("Successes paid")),
)

AGENT_KEYS = ("name", "shifts", "worked_minutes", "contacts", "successes", "aht_seconds", "surveys_answered", "csat",
              "flags_confirmed", "pay_fen")
DAY_COLUMNS = (("date", _l("Date")), ("seats_offered", _l("Seats offered")), ("seats_claimed", _l("Seats claimed")),
               ("fill_rate", _l("Fill rate")), ("claims_due", _l("Claims due")), ("no_shows", _l("No-shows")),
               ("no_show_rate", _l("No-show rate")), ("contacts", _l("Contacts")))


def _cell(value):
    """Text defused and stripped of characters a workbook cannot hold; numbers and blanks as they are."""
    if isinstance(value, str):
        return defuse(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def metric_rows(m: dict) -> list[list]:
    rows = [["key", gettext("Metric"), gettext("Value"), gettext("Shown"), gettext("Definition")]]
    for metric in ALL_METRICS:
        rows.append([metric.key, str(metric.label), m[metric.key], shown(m[metric.key], metric.kind),
                     str(metric.definition)])
    for key, label in EXTRA:
        rows.append([key, str(label), m[key], "", ""])
    for score in "12345":
        rows.append([f"csat_distribution_{score}", gettext("Surveys rated %(n)s", n=score),
                     m["csat_distribution"][score], "", ""])
    return rows


def agent_rows(m: dict) -> list[list]:
    rows = [[gettext("Agent"), gettext("Shifts"), gettext("Minutes worked"), gettext("Contacts"),
             gettext("Successes"), gettext("AHT (seconds)"), gettext("Surveys answered"), "CSAT",
             gettext("Confirmed QA flags"), gettext("Pay (fen)")]]
    rows += [[a[k] for k in AGENT_KEYS] for a in m["agents"]]
    return rows


def day_rows(m: dict) -> list[list]:
    return [[str(label) for _key, label in DAY_COLUMNS]] + [[d[key] for key, _label in DAY_COLUMNS] for d in m["days"]]


def to_csv(m: dict) -> bytes:
    """UTF-8 with BOM (Excel opens it as UTF-8): metrics, a blank line, agents, a blank line, days."""
    out = io.StringIO()
    writer = csv.writer(out)
    for block in (metric_rows(m), agent_rows(m), day_rows(m)):
        writer.writerows([[_cell(v) for v in row] for row in block])
        writer.writerow([])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(m: dict) -> bytes:
    book = Workbook()
    sheets = ((gettext("Metrics"), metric_rows(m)), (gettext("Agents"), agent_rows(m)), (gettext("Days"), day_rows(m)))
    for index, (title, rows) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
