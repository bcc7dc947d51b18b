"""The campaign dashboard as CSV and XLSX: the metrics (raw value, as shown, definition), agents and days.

Every text cell that a spreadsheet would run as a formula (= + - @ tab CR first) gets a leading apostrophe
(`app.contacts.csvfile.defuse`); numbers stay numbers. Agent names are the obvious carrier.
"""

from __future__ import annotations

import csv
import io

from flask_babel import gettext
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from app.contacts.csvfile import defuse
from app.insight.definitions import ALL_METRICS, shown

# Counts and money behind the ratios, exported after the headline metrics.
EXTRA_KEYS = ("shifts", "seats_offered", "seats_claimed", "claims_due", "claims_showed_up", "no_shows",
              "late_cancellations", "worked_minutes", "outbound_attempts", "outbound_contacts_attempted",
              "outbound_contacts_reached", "outbound_contacts_succeeded", "inbound_contacts", "inbound_resolved",
              "handle_seconds", "complaints", "surveys_sent", "surveys_answered", "csat_satisfied",
              "qa_inspected", "qa_flags_open", "qa_flags_dismissed", "qa_contacts_flagged", "budget_fen",
              "escrowed_fen", "settled_pay_fen", "settled_commission_fen", "committed_fen", "refunded_fen",
              "escrow_held_fen", "settled_contacts", "settled_successes")

AGENT_KEYS = ("name", "shifts", "worked_minutes", "contacts", "successes", "aht_seconds", "surveys_answered", "csat",
              "flags_confirmed", "pay_fen")
DAY_KEYS = ("date", "seats_offered", "seats_claimed", "fill_rate", "claims_due", "no_shows", "no_show_rate",
            "contacts")


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
    for key in EXTRA_KEYS:
        rows.append([key, key.replace("_", " "), m[key], "", ""])
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
    return [list(DAY_KEYS)] + [[d[k] for k in DAY_KEYS] for d in m["days"]]


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
    sheets = (("Metrics", metric_rows(m)), ("Agents", agent_rows(m)), ("Days", day_rows(m)))
    for index, (title, rows) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
