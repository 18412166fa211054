"""Reminders delivered through Telegram: the `send` that bot.reminders.service.ReminderService is given."""

from __future__ import annotations

from telegram import Bot
from telegram.error import BadRequest, Forbidden

from bot.reminders.service import DeliveryRejected, Send


def telegram_sender(bot: Bot) -> Send:
    """A `send` for ReminderService that uses a PTB Bot and sorts its errors into retry / give up."""

    async def send(chat_id: int, text: str) -> int:
        try:
            message = await bot.send_message(chat_id, text)
        except (Forbidden, BadRequest) as exc:  # blocked, kicked, chat not found: a retry gets the same answer
            raise DeliveryRejected(str(exc)) from exc
        return message.message_id

    return send
