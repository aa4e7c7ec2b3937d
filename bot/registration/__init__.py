"""The registration: the portal's form declared once as data, the drafts that walk it, and the
pure validators of its answers."""

from bot.registration.drafts import Registrations
from bot.registration.form import (
    FIELDS,
    FIELDS_BY_KEY,
    HUMAN_CHECK,
    SUMMARY,
    SUMMARY_FIELDS,
    FormField,
    Progress,
    position,
    progress,
    summary,
)

__all__ = [
    "FIELDS",
    "FIELDS_BY_KEY",
    "HUMAN_CHECK",
    "SUMMARY",
    "SUMMARY_FIELDS",
    "FormField",
    "Progress",
    "Registrations",
    "position",
    "progress",
    "summary",
]
