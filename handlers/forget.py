"""/forget: delete memories (row, vector and keyword entry go together, in memory.Memory).

- As a reply to a message: forget that message at once.
- /forget <query>: list the matching memories and ask to confirm with a button.
- /forget all: ask to confirm, then empty this chat's memory.
Only the person who asked can press the buttons. In groups with admin_user_ids configured, only admins may forget.
"""

from __future__ import annotations

import secrets

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers.access import require_admin
from handlers.commands import args_text, hit_line, reply_html
from handlers.context import services_of

ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot: the sender of an anonymous admin's messages

MAX_MATCHES = 5
# A query's hit is offered for deletion if it shares a keyword or its embedding is at least this similar:
# vector search always returns *something*, and unrelated messages must not be deleted by accident.
MIN_SIMILARITY = 0.45


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget (as a reply), /forget <query> or /forget all."""
    if not await require_admin(update, context):
        return
    memory = services_of(context).memory
    message = update.effective_message
    chat_id = update.effective_chat.id
    query = args_text(update)
    if message.reply_to_message and not query:
        target = message.reply_to_message.message_id
        if await memory.forget(chat_id, target):
            await reply_html(update, "Forgotten: that message is no longer in my memory.")
        else:
            await reply_html(update, "I had nothing stored for that message.")
        return
    if not query:
        await reply_html(update, "Usage: reply to a message with /forget, or /forget &lt;what&gt;, or /forget all")
        return
    if query.lower() == "all":
        count = (await memory.stats(chat_id))["messages"]
        if not count:
            await reply_html(update, "This chat's memory is already empty.")
            return
        token = _remember(context, update, "all")
        await reply_html(update, f"Forget <b>everything</b> I remember of this chat ({count} messages)? "
                                 "This cannot be undone.", reply_markup=_confirm(token, "Yes, forget everything"))
        return
    hits = [h for h in await memory.search(chat_id, query, MAX_MATCHES * 2)
            if h.keyword_score is not None or (h.similarity or 0.0) >= MIN_SIMILARITY][:MAX_MATCHES]
    if not hits:
        await reply_html(update, "Nothing in this chat's memory matches that closely; nothing to forget.")
        return
    token = _remember(context, update, [h.message.id for h in hits])
    lines = [hit_line(number, hit) for number, hit in enumerate(hits, start=1)]
    await reply_html(update, f"Forget these {len(hits)} messages?\n\n" + "\n\n".join(lines),
                     reply_markup=_confirm(token, f"Yes, forget {len(hits)}"))


def _remember(context, update: Update, what) -> str:
    pending = context.chat_data.setdefault("forget", {})
    token = secrets.token_hex(4)  # never reused, even across restarts: an old button cannot confirm a new request
    pending[token] = {"what": what, "user_id": update.effective_user.id}
    return token


def _confirm(token: str, yes: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[
        InlineKeyboardButton(yes, callback_data=f"forget:{token}:yes"),
        InlineKeyboardButton("Cancel", callback_data=f"forget:{token}:no"),
    ]])


async def forget_confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirm / cancel buttons of /forget."""
    query = update.callback_query
    _, token, answer = (query.data.split(":") + ["", ""])[:3]
    pending = context.chat_data.get("forget", {})
    request = pending.get(token)
    if request is None:
        await query.answer("This request has expired.", show_alert=True)
        return
    presser = update.effective_user.id
    # An anonymous group admin asks as Telegram's shared GroupAnonymousBot but presses buttons as themselves:
    # then an admin of Engram's config (or, with none configured, any allowed member) may confirm.
    access = services_of(context).access
    if request["user_id"] != presser and not (
        request["user_id"] == ANONYMOUS_ADMIN and access.may_destroy(presser, update.effective_chat)
    ):
        await query.answer("Only the person who asked can confirm.", show_alert=True)
        return
    del pending[token]
    await query.answer()
    if answer != "yes":
        await query.edit_message_text("Cancelled: nothing was forgotten.")
        return
    memory = services_of(context).memory
    chat_id = update.effective_chat.id
    if request["what"] == "all":
        count = await memory.forget_chat(chat_id)
        context.chat_data.pop("searches", None)
    else:
        count = await memory.forget_ids(chat_id, request["what"])
    await query.edit_message_text(f"Forgotten: {count} messages deleted from my memory of this chat.",
                                  parse_mode=ParseMode.HTML)
