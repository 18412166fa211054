"""Commands: /start /help /search /export /stats /reset /why /compare (and /forget in handlers/forget.py).

Every answer is HTML with anything that came from users or the model escaped. Usage errors are answered on the
spot. Commands are not stored in memory.
"""

from __future__ import annotations

import secrets
import json
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers.context import services_of
from bot.views import format_date, percentile, sender, shorten
from handlers.format import escape, human_bytes, seconds
from memory import Hit

# (command, description) in menu order: setMyCommands and /help both use it.
COMMANDS: list[tuple[str, str]] = [
    ("start", "what Engram is"),
    ("help", "the commands"),
    ("search", "<query> — search this chat's memory by meaning"),
    ("why", "what was recalled for the last reply"),
    ("forget", "reply to a message, or <query>, or 'all' — delete memories"),
    ("export", "this chat's memory as a JSON file"),
    ("stats", "what is stored, models, latencies"),
    ("reset", "start a fresh conversation (memory stays)"),
    ("compare", "<text A> | <text B> — how similar two texts are"),
]

PAGE = 5
MAX_RESULTS = 50
SNIPPET = 300


def args_text(update: Update) -> str:
    """Everything after the command word."""
    parts = (update.effective_message.text or "").split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


async def reply_html(update: Update, html: str, **kwargs) -> None:
    await update.effective_message.reply_text(html, parse_mode=ParseMode.HTML, **kwargs)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say what the bot is."""
    await reply_html(
        update,
        "Hi, I am <b>Engram</b>, an assistant with long-term memory of this chat. I remember what is said here "
        "and bring it back when it matters. Everything stays on my owner's machine.\n\n/help lists the commands.",
    )


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    lines = [f"/{name} {escape(text)}" for name, text in COMMANDS]
    lines += [f"/{name} {escape(text)}" for name, text in services_of(context).extra_commands]
    await reply_html(update, "<b>Commands</b>\n" + "\n".join(lines))


def hit_line(number: int, hit: Hit) -> str:
    m = hit.message
    who = sender(m)
    score = f"similarity {hit.similarity:.2f}" if hit.similarity is not None else f"score {hit.score:.3f}"
    return (
        f"<b>{number}.</b> {format_date(m.created_at)} · {escape(who)} · {score}\n"
        f"{escape(shorten(m.text, SNIPPET))}"
    )


async def search_page(context, chat_id: int, query: str, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    memory = services_of(context).memory
    k = min((page + 1) * PAGE + 1, MAX_RESULTS)
    hits = await memory.search(chat_id, query, k)
    shown = hits[page * PAGE:(page + 1) * PAGE]
    if not shown:
        return f"Nothing in this chat's memory matches “{escape(query)}”.", None
    lines = [hit_line(page * PAGE + i, hit) for i, hit in enumerate(shown, start=1)]
    header = f"<b>Search:</b> {escape(shorten(query, 100))}"
    return header + "\n\n" + "\n\n".join(lines), None if len(hits) <= (page + 1) * PAGE else page + 1


async def search(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/search <query>: the best matches in this chat, with a button for more."""
    query = args_text(update)
    if not query:
        await reply_html(update, "Usage: /search &lt;what you are looking for&gt;")
        return
    searches = context.chat_data.setdefault("searches", {})
    key = secrets.token_hex(4)  # never reused across restarts: an old button cannot page a newer search
    searches[key] = query
    for old in list(searches)[:-20]:  # keep the last 20 searches per chat pageable
        del searches[old]
    text, next_page = await search_page(context, update.effective_chat.id, query, 0)
    await reply_html(update, text, reply_markup=_pager(key, 0, next_page))


def _pager(key: str, page: int, next_page: int | None) -> InlineKeyboardMarkup | None:
    buttons = []
    if page > 0:
        buttons.append(InlineKeyboardButton("◀ back", callback_data=f"search:{key}:{page - 1}"))
    if next_page is not None:
        buttons.append(InlineKeyboardButton("more ▶", callback_data=f"search:{key}:{next_page}"))
    return InlineKeyboardMarkup([buttons]) if buttons else None


async def search_more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The "more" / "back" buttons under search results: show that page in the same message."""
    query_cb = update.callback_query
    _, key, page_text = (query_cb.data.split(":") + ["", ""])[:3]
    query = context.chat_data.get("searches", {}).get(key)
    if query is None or not page_text.isdigit():
        await query_cb.answer("This search has expired: search again.", show_alert=True)
        return
    await query_cb.answer()
    page = int(page_text)
    text, next_page = await search_page(context, update.effective_chat.id, query, page)
    await query_cb.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=_pager(key, page, next_page))


async def export(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/export: this chat's memory as a JSON document."""
    chat_id = update.effective_chat.id
    messages = await services_of(context).memory.export(chat_id)
    payload = {"chat_id": chat_id, "exported_at": format_date(time.time()) + " UTC", "messages": messages}
    data = json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8")
    await update.effective_message.reply_document(
        data, filename=f"engram-chat-{chat_id}.json", caption=f"{len(messages)} messages from this chat's memory."
    )


async def stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: what is stored, the models, and latency percentiles since start."""
    services = services_of(context)
    chat = await services.memory.stats(update.effective_chat.id)
    total = await services.memory.stats()
    timings = services.assistant.timings
    recall = services.memory.recall_latencies

    def pcts(values: list[float]) -> str:
        return f"p50 {seconds(percentile(values, 50))}, p95 {seconds(percentile(values, 95))} (n={len(values)})"

    roles = ", ".join(f"{role} {n}" for role, n in sorted(chat["by_role"].items())) or "none"
    lines = [
        f"<b>This chat:</b> {chat['messages']} messages stored ({escape(roles)})",
        # Totals across chats only for people on the user allowlist (the bot's owners), not every group member.
        *([f"<b>All chats:</b> {total['messages']} messages in {total['chats']} chats",
           f"<b>Database:</b> {human_bytes(total['database_bytes'])}"]
          if update.effective_user and update.effective_user.id in services.access.users | services.access.admins
          else []),
        f"<b>Embedding model:</b> {escape(str(total['embedding_model'] or services.memory.embedder.name))}"
        f" ({total['embedding_dim'] or services.memory.embedder.dim} dimensions)",
        f"<b>Language model:</b> {escape(getattr(services.llm, 'name', '?'))}",
        f"<b>Recall:</b> {pcts(recall)}",
        f"<b>First token:</b> {pcts(timings.first_token)}",
        f"<b>Whole reply:</b> {pcts(timings.generation)}",
        f"<b>Up for:</b> {seconds(time.time() - services.started_at)}",
    ]
    await reply_html(update, "\n".join(lines))


async def reset(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reset: a fresh short-term context; long-term memory stays."""
    await services_of(context).assistant.reset(update.effective_chat.id)
    await reply_html(update, "Fresh start: I no longer carry the recent conversation into my replies. "
                             "Long-term memory stays; /forget deletes memories.")


async def why(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/why: the memories recalled for the last reply, with their scores."""
    services = services_of(context)
    chat_id = update.effective_chat.id
    hits = [h for h in services.assistant.last_recall(chat_id)
            if await services.memory.get(chat_id, h.message.message_id) is not None]  # not since forgotten
    if not hits:
        await reply_html(update, "Nothing was recalled for my last reply in this chat.")
        return
    lines = []
    for number, hit in enumerate(hits, start=1):
        scores = [f"fused {hit.score:.3f}"]
        if hit.similarity is not None:
            scores.append(f"similarity {hit.similarity:.2f}")
        if hit.keyword_score is not None:
            scores.append(f"keywords {hit.keyword_score:.2f}")
        m = hit.message
        who = sender(m)
        lines.append(f"<b>{number}.</b> {format_date(m.created_at)} · {escape(who)} · {', '.join(scores)}\n"
                     f"{escape(shorten(m.text, SNIPPET))}")
    await reply_html(update, "<b>Recalled for my last reply</b>\n\n" + "\n\n".join(lines))


async def compare(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/compare <A> | <B>: cosine similarity, Euclidean distance and dot product of the two embeddings."""
    text = args_text(update)
    if text.count("|") != 1 or not all(side.strip() for side in text.split("|")):
        await reply_html(update, "Usage: /compare &lt;text A&gt; | &lt;text B&gt;")
        return
    a, b = (side.strip() for side in text.split("|"))
    measures = await services_of(context).memory.compare(a, b)
    await reply_html(
        update,
        f"A: {escape(shorten(a, 200))}\nB: {escape(shorten(b, 200))}\n\n"
        f"Cosine similarity: <b>{measures['cosine']:.4f}</b>\n"
        f"Euclidean distance: <b>{measures['euclidean']:.4f}</b>\n"
        f"Dot product: <b>{measures['dot']:.4f}</b>\n\n"
        "The embeddings are normalised, so the dot product equals the cosine and the distance is √(2 − 2·cosine).",
    )
