"""Who may use the bot, as data: the allowlist of users and chats, the admins, and who was already refused.

handlers/access.py applies it to every update; `Services.access` holds the one instance.
"""

from __future__ import annotations

from telegram import Chat

from bot.config import TelegramConfig


class AccessPolicy:
    def __init__(self, config: TelegramConfig):
        self.users = set(config.allowed_user_ids)
        self.chats = set(config.allowed_chat_ids)
        self.admins = set(config.admin_user_ids)
        self.refused: set[int] = set()  # users (or chats) already told no

    def allowed(self, user_id: int | None, chat_id: int | None) -> bool:
        """A user on the list may talk anywhere the bot is; in an allowed chat every member may."""
        return (user_id is not None and user_id in self.users) or (chat_id is not None and chat_id in self.chats)

    def is_owner(self, user_id: int | None) -> bool:
        """One of the bot's owners (telegram.allowed_user_ids or admin_user_ids), wherever they write from."""
        return user_id is not None and user_id in self.users | self.admins

    def may_destroy(self, user_id: int | None, chat: Chat) -> bool:
        """Destructive commands: anyone in their own private chat; in groups, admins if any are configured."""
        if chat.type == Chat.PRIVATE or not self.admins:
            return True
        return user_id in self.admins

    def first_refusal(self, key: int) -> bool:
        """True the first time someone is refused (so they are told once), False afterwards."""
        if key in self.refused:
            return False
        self.refused.add(key)
        return True
