"""Tickets: a family's questions to the volunteers, the answers kept in its inbox, blocked
senders, and the volunteers' statistics."""

from bot.tickets.service import Tickets, TicketStats

__all__ = ["TicketStats", "Tickets"]
