"""Words for the contacts domain's codes, in the reader's language (pages, the error file)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

OUTCOME_NAMES = {
    "reached": _l("Reached"),
    "no_answer": _l("No answer"),
    "busy": _l("Busy"),
    "wrong_number": _l("Wrong number"),
    "callback": _l("Callback requested"),
    "converted": _l("Success: converted"),
    "reactivated": _l("Success: reactivated"),
    "refused": _l("Refused"),
    "do_not_call": _l("Do not call"),
}

CONTACT_STATUS_NAMES = {
    "new": _l("Not called yet"),
    "assigned": _l("With an agent"),
    "callback": _l("Callback due"),
    "done": _l("Done"),
    "do_not_call": _l("Do not call"),
}

CALL_LIST_STATUS_NAMES = {
    "queued": _l("Waiting to import"),
    "importing": _l("Importing"),
    "done": _l("Imported"),
    "failed": _l("Failed"),
}

CHANNEL_NAMES = {"phone": _l("Phone"), "chat": _l("Chat"), "app": _l("App")}

CATEGORY_NAMES = {
    "order": _l("Order status"),
    "delivery": _l("Delivery"),
    "return": _l("Returns and refunds"),
    "product": _l("Product question"),
    "account": _l("Account"),
    "complaint": _l("Complaint"),
    "other": _l("Other"),
}

RESOLUTION_NAMES = {"resolved": _l("Resolved"), "escalated": _l("Escalated")}

# Why a row of a call list was not imported (the error file's "reason" column).
ROW_REASONS = {
    "phone_empty": _l("No phone number"),
    "phone_scientific": _l("The number is in scientific notation (like 1.38001E+10), so digits were lost: "
                           "format the column as text in Excel and export again"),
    "phone_letters": _l("The phone number contains letters"),
    "phone_too_short": _l("The phone number is too short"),
    "phone_too_long": _l("The phone number is too long"),
    "phone_invalid": _l("Not a valid phone number"),
    "duplicate_in_campaign": _l("Duplicate: this number is already in the campaign"),
    "unreadable": _l("This row could not be read as CSV"),
    "bad_characters": _l("This row has characters that could not be read (check the file's encoding)"),
    "control_characters": _l("This row contains control characters"),
    "name_too_long": _l("The name is longer than 120 characters"),
    "field_too_long": _l("A field is longer than 2000 characters"),
}


def row_reason(code: str, **detail) -> str:
    """The sentence for a rejected row, in the current (or forced) locale."""
    from flask_babel import gettext

    if code == "duplicate_in_list":
        return gettext("Duplicate: same number as row %(row)d", row=detail["row"])
    if code == "too_many_cells":
        return gettext("This row has %(cells)d cells but the header has %(columns)d columns",
                       cells=detail["cells"], columns=detail["columns"])
    if code == "row_limit":
        return gettext("Over the limit of %(limit)d rows per list", limit=detail["limit"])
    return str(ROW_REASONS[code])
