"""Reminders: parsing "/remind <when> <what>", and the service that stores and delivers them on the JobQueue."""

from bot.reminders.parse import ParsedReminder, ParseError, detect_natural_request, parse_reminder
from bot.reminders.recurrence import Recurrence
from bot.reminders.service import DeliveryRejected, ReminderService

__all__ = [
    "DeliveryRejected", "ParseError", "ParsedReminder", "Recurrence", "ReminderService", "detect_natural_request",
    "parse_reminder",
]
