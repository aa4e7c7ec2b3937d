"""Families ask, volunteers answer: tickets relayed between a family's private chat and the
volunteers' group (one forum topic per ticket, or replies in a plain group).

The family never leaves its chat and never sees who answered; volunteers see the question and
where the family stands, never passwords, tokens or links.
"""

from conversations.volunteers.family import family_handlers
from conversations.volunteers.group import remind_unanswered, volunteer_handlers
from conversations.volunteers.shared import (
    COMMAND_NAMES,
    COMMANDS,
    GROUP_BUTTONS,
    REMIND_EVERY,
)

__all__ = [
    "COMMANDS",
    "COMMAND_NAMES",
    "GROUP_BUTTONS",
    "REMIND_EVERY",
    "family_handlers",
    "remind_unanswered",
    "volunteer_handlers",
]
