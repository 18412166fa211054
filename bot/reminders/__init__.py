"""Reminders: parsing "/remind <when> <what>", the service that stores and delivers them (on PTB's JobQueue or
asyncio timers), and their words."""

from bot.reminders.parse import ParsedReminder, ParseError, detect_natural_request, parse_reminder
from bot.reminders.recurrence import Recurrence
from bot.reminders.service import ChatScope, DeliveryRejected, ReminderService

__all__ = [
    "ChatScope", "DeliveryRejected", "ParseError", "ParsedReminder", "Recurrence", "ReminderService",
    "detect_natural_request", "parse_reminder",
]
