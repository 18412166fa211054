"""How command results look, written once for every front end.

Each view takes a Markup: PLAIN for the terminal and the command line, HTML for Telegram (parse_mode HTML).
The markup escapes whatever came from people or the model and decides what bold looks like; the words and the
layout are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from bot.i18n import N_, _, current, isolate, ngettext, number
from bot.text import Markup, plural, said_in, shorten, shown_sender
from memory import Hit, Message

if TYPE_CHECKING:  # annotations only
    from bot.commands.actions import Comparison, ForgetRequest, SearchPage, Stats
    from bot.commands.topic_commands import TopicPage, TopicsReport
    from bot.reply.updates import Preference

SNIPPET_CHARS = 300  # of a message shown in a list
PREVIEW_LINES = 10  # messages listed before a /forget is confirmed


# ----- small helpers -------------------------------------------------------------------------------------------
def format_date(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M")


def percentile(values: Sequence[float], p: float) -> float | None:
    """The p-th percentile (0-100) by the nearest-rank method; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil
    return ordered[int(rank) - 1]


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def percentiles(values: Sequence[float]) -> str:
    if not values:
        return _("no data yet")
    return f"p50 {seconds(percentile(values, 50))}, p95 {seconds(percentile(values, 95))} (n={len(values)})"


# ----- hits and messages ---------------------------------------------------------------------------------------
def scores(hit: Hit) -> str:
    """'score 0.92 (similarity 0.81, keywords 3.20)': the score that orders the hits, then what it is made of."""
    parts = []
    if hit.similarity is not None:
        parts.append(_("similarity {value}").format(value=f"{hit.similarity:.2f}"))
    if hit.keyword_score is not None:
        parts.append(_("keywords {value}").format(value=f"{hit.keyword_score:.2f}"))
    return _("score {value}").format(value=f"{hit.score:.2f}") + (f" ({', '.join(parts)})" if parts else "")


# What a hit's score is (memory/recall.py, fuse): said wherever hits are listed "best first", with the embedding
# model's weights (FusionParams.keyword_weight: 0.2 for multilingual-e5-small, 0.3 for all-MiniLM-L6-v2).
SCORE_NOTE = N_("best first by score: {meaning} × similarity in meaning + {keywords} × keyword match (over the best "
                "match), plus a share of the score of the turns around it; a question or my own reply counts half")


def score_note(keyword_weight: float) -> str:
    """SCORE_NOTE with the weights in the chat's language's digits ("0.8", "0,8", "۰٫۸")."""
    from babel.numbers import format_decimal

    def weight(value: float) -> str:
        return format_decimal(round(value, 2), format="0.0#", locale=current())

    return _(SCORE_NOTE).format(meaning=weight(1 - keyword_weight), keywords=weight(keyword_weight))


def hit_entry(number: int, hit: Hit, m: Markup) -> str:
    """'1. 2026-11-27 10:00 · Ana · similarity 0.81' and the message below it."""
    msg = hit.message
    return (f"{m.bold(f'{number}.')} {format_date(msg.created_at)} · {m.escape(said_in(msg))} · {scores(hit)}\n"
            f"{m.escape(shorten(msg.text, SNIPPET_CHARS))}")


def message_line(message: Message, m: Markup) -> str:
    said = isolate(shorten(message.text, 200))  # right-to-left text keeps its order among the date and the name
    return f"[{format_date(message.created_at)}] {m.escape(isolate(shown_sender(message)))}: {m.escape(said)}"


def floor_note(page: SearchPage) -> str:
    least, share = page.floor
    return _("scores under {least}, or under {share} of the best, are left out").format(
        least=f"{least:.2f}", share=f"{share:.0%}")


def search_text(page: SearchPage, m: Markup) -> str:
    query = m.escape(shorten(page.query, 100))
    if not page.hits:
        if page.closest is not None:
            return _("Nothing in this chat's memory matches “{query}” closely: the closest scored {score} "
                     "({note}).").format(query=query, score=f"{page.closest:.2f}", note=floor_note(page))
        return _("Nothing in this chat's memory matches “{query}”.").format(query=query)
    entries = [hit_entry(page.first + i, hit, m) for i, hit in enumerate(page.hits)]
    when = f" — {m.escape(page.window)}" if page.window else ""
    weaker = "\n\n" + _("(Weaker matches left out: {note}.)").format(note=floor_note(page)) if page.left_out else ""
    title = m.bold(_("Search:"))
    return f"{title} {query}{when}\n{score_note(page.keyword_weight)}\n\n" + "\n\n".join(entries) + weaker


def why_text(hits: Sequence[Hit], m: Markup, preference: Preference | None = None,
             keyword_weight: float = 0.3) -> str:
    """/why: `hits` best first (actions.why sorts them); `preference` (Assistant.last_preference): of those
    answering the same question, the memory preferred and why, and those it superseded (kept, never deleted);
    `keyword_weight` the memory's (actions.keyword_weight), said in the note on scores."""
    if not hits:
        return _("Nothing was recalled for my last reply in this chat.")
    if preference is not None:  # the memory preferred first, then those it superseded, then the rest
        rank = {preference.preferred.message.rowid: 0, **{h.message.rowid: 1 for h in preference.earlier}}
        hits = sorted(hits, key=lambda h: rank.get(h.message.rowid, 2))
    entries = []
    for n, hit in enumerate(hits, start=1):
        entry = hit_entry(n, hit, m)
        if preference is not None and hit.message.rowid == preference.preferred.message.rowid:
            entry += "\n" + m.bold(_("★ preferred")) + ": " + m.escape(preference.reason)
        elif preference is not None and any(hit.message.rowid == h.message.rowid for h in preference.earlier):
            entry += "\n" + _("↳ earlier: superseded by the newer memory (kept, answers what was before)")
        entries.append(entry)
    title = m.bold(_("Recalled for my last reply"))
    return f"{title}, {score_note(keyword_weight)}\n\n" + "\n\n".join(entries)


def compare_text(c: Comparison, m: Markup) -> str:
    return "\n".join([
        f"A: {m.escape(shorten(c.a, 200))}",
        f"B: {m.escape(shorten(c.b, 200))}",
        "",
        _("Cosine similarity: {value}  (1 = same meaning, 0 = unrelated)").format(value=m.bold(f"{c.cosine:.4f}")),
        _("Euclidean distance: {value}  (0 = identical; at most 2 for these vectors)").format(
            value=m.bold(f"{c.euclidean:.4f}")),
        _("Dot product: {value}").format(value=m.bold(f"{c.dot:.4f}")),
        "",
        _("The embeddings are normalised, so the dot product equals the cosine and the distance is √(2 − 2·cosine)."),
    ])


ROLE_WORDS = {"user": N_("{n} from people"), "assistant": N_("{n} from Engram"),
              "system": N_("{n} from the system")}  # in /stats


def held(s: Stats, where: str = "") -> str:
    """'13 messages stored (11 from people, 2 from Engram)' ('… stored in 3 chats (…)' with `where`, a count of
    chats), or that there are none."""
    if not s.chat_messages:
        return _("no messages stored yet")
    order = list(ROLE_WORDS)
    roles = sorted(s.by_role.items(), key=lambda item: (order.index(item[0]) if item[0] in order else 99, item[0]))
    said = ", ".join(_(ROLE_WORDS[role]).format(n=number(n)) if role in ROLE_WORDS
                     else _("{n} as {role}").format(n=number(n), role=role) for role, n in roles)
    counted = plural(s.chat_messages, "message")
    if where:
        return _("{messages} stored in {chats} ({roles})").format(messages=counted, chats=where, roles=said)
    return _("{messages} stored ({roles})").format(messages=counted, roles=said)


def dates(first: float, last: float) -> str:
    """'2024-03-02 10:01 – 2024-03-09 18:30 (UTC)' (one date when both are the same)."""
    a, b = format_date(first), format_date(last)
    return f"{a} (UTC)" if a == b else f"{a} – {b} (UTC)"


def stats_text(s: Stats, m: Markup, up_for: float | None = None, *, chat_name: str | None = None) -> str:
    """/stats and `./engram stats`: what the memory holds (of one chat, or of all when s.chat_id is None), the
    models, and a running assistant's latencies."""
    def field(name: str) -> str:
        return m.bold(m.escape(name) + ":")

    if s.chat_id is None:
        lines = [field(_("All chats")) + f" {held(s, plural(s.chats or 0, 'chat'))}"]
    else:
        lines = [field(chat_name or _("This chat")) + " " + held(s)]
    if s.first is not None and s.last is not None:
        lines.append(field(_("Sent")) + f" {dates(s.first, s.last)}")
    if s.chat_id is not None and s.total_messages is not None:
        lines.append(field(_("All chats")) + " " + _("{messages} in {chats}").format(
            messages=plural(s.total_messages, "message"), chats=plural(s.chats or 0, "chat")))
    if s.database_bytes is not None:
        lines.append(field(_("Database")) + f" {human_bytes(s.database_bytes)}")
    lines.append(field(_("Embedding model")) + f" {m.escape(s.embedding_model)} "
                 f"({plural(s.embedding_dim, 'dimension')})")
    if s.llm_name is not None:  # a running assistant
        lines += [
            field(_("Language model")) + f" {m.escape(s.llm_name)}",
            field(_("Recall")) + f" {percentiles(s.recall_seconds)}",
            field(_("First token")) + f" {percentiles(s.first_token_seconds)}",
            field(_("Whole reply")) + f" {percentiles(s.reply_seconds)}",
        ]
    if up_for is not None:
        lines.append(field(_("Up for")) + f" {seconds(up_for)}")
    return "\n".join(lines)


def forget_question(request: ForgetRequest, m: Markup) -> str | None:
    """The confirmation question for a /forget, or None when there is nothing to forget (see forget_nothing)."""
    if not request.count:
        return None
    if request.everything:
        return ngettext("Forget {everything} I remember of this chat ({n} message)? This cannot be undone.",
                        "Forget {everything} I remember of this chat ({n} messages)? This cannot be undone.",
                        request.count).format(everything=m.bold(_("everything")), n=number(request.count))
    lines = [message_line(msg, m) for msg in request.preview[:PREVIEW_LINES]]
    if request.count > PREVIEW_LINES:
        more = request.count - PREVIEW_LINES
        lines.append(ngettext("… and {n} more", "… and {n} more", more).format(n=number(more)))
    question = ngettext("Forget this {n} message?", "Forget these {n} messages?", request.count)
    return question.format(n=number(request.count)) + "\n\n" + "\n".join(lines)


def forget_nothing(request: ForgetRequest) -> str:
    if request.everything:
        return _("This chat's memory is already empty.")
    return _("No message in this chat's memory contains all these words; nothing to forget.")


def forgotten_text(count: int) -> str:
    return ngettext("Forgotten: {n} message deleted from my memory of this chat.",
                    "Forgotten: {n} messages deleted from my memory of this chat.", count).format(n=number(count))


# ----- /export -------------------------------------------------------------------------------------------------
def export_caption(messages: int) -> str:
    """Under /export's file (actions.ExportFile.messages)."""
    return ngettext("{n} message from this chat's memory.", "{n} messages from this chat's memory.",
                    messages).format(n=number(messages))


def export_written(messages: int, path: str) -> str:
    """The terminal's and the command line's /export: where the file went."""
    return (export_caption(messages) + " " + _("Written to {path}").format(path=path) + "\n"
            + _("(./engram import {path} reads it back, on any machine.)").format(path=path))


# ----- /topics -------------------------------------------------------------------------------------------------
def day(ts: float) -> str:
    """'24 Dec 2026', or as the chat's language writes it ('24 дек. 2026', CLDR through Babel)."""
    moment = datetime.fromtimestamp(ts, tz=timezone.utc)
    if current() == "en":
        return moment.strftime("%d %b %Y")
    from babel.dates import format_date

    return format_date(moment.date(), "dd MMM y", locale=current())


def span(first: float, last: float) -> str:
    a, b = day(first), day(last)
    return a if a == b else f"{a} – {b}"


def topics_text(report: TopicsReport, m: Markup) -> str:
    head = (m.bold(_("Topics")) + f" — {m.escape(report.period)}: {plural(report.messages, 'message')}, "
            f"{plural(report.total_topics, 'topic')}, "
            + _("{messages} in none").format(messages=plural(report.noise, "message")))
    if report.fitted_on < report.messages:
        head += " " + _("(clustered on a sample of {n}, the rest joined the nearest topic)").format(
            n=number(report.fitted_on))
    if not report.topics:
        return head + "\n\n" + _("No clear topics: the messages are too varied, or too alike, to group.")
    entries = []
    for t in report.topics:
        lines = [f"{m.bold(f'{t.id}. {m.escape(isolate(t.label))}')} — {plural(t.size, 'message')}, "
                 f"{span(t.first, t.last)}",
                 _("keywords: {words}").format(words=m.escape(", ".join(isolate(k) for k in t.keywords)))]
        lines += [f"  “{m.escape(isolate(shorten(e.text, 90)))}”" for e in t.examples]
        entries.append("\n".join(lines))
    more = report.total_topics - len(report.topics)
    tail = "\n\n" + _("… and {topics}.").format(topics=plural(more, "smaller topic")) if more > 0 else ""
    return head + "\n\n" + "\n\n".join(entries) + tail


def topic_page_text(page: TopicPage, m: Markup, *, typed: bool = False) -> str:
    """A page of a topic's messages, with where it stands ("page 1 of 3") and how to see the others: the buttons
    below it in Telegram, or (`typed`, the terminal) the command to type."""
    t = page.topic
    title = _("Topic {id}: {label}").format(id=t.id, label=m.escape(isolate(t.label)))
    lines = [f"{m.bold(title)} — {plural(t.size, 'message')}, {span(t.first, t.last)}", ""]
    lines += [f"{m.bold(f'{page.first + i}.')} {message_line(msg, m)}" for i, msg in enumerate(page.messages)]
    where = _("Page {page} of {pages}").format(page=page.page + 1, pages=page.pages)
    if page.pages > 1:
        if typed:
            others = [_("{command} for the next").format(command=f"/topic {t.id} {page.page + 2}")] if page.more \
                else []
            others += [_("{command} for the one before").format(command=f"/topic {t.id} {page.page}")] \
                if page.page > 0 else []
            where += ": " + ", ".join(others)
        else:
            where += ": " + _("the buttons below page on")
    lines += ["", where + "."]
    return "\n".join(lines)
