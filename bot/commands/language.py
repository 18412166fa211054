"""/language: show or choose the language a chat is answered in, the same in Telegram and the terminal.

    /language          which language, and how it was chosen
    /language es       answer in Spanish (a code or a name: es, Spanish, español, pt-BR)
    /language auto     follow the language of the messages again

Every front end also calls `use_chat_language` before answering anything, so the fixed texts, the reminder
parser and the model's instruction all follow the chat (bot/i18n.py says in which order it is chosen).
"""

from __future__ import annotations

from bot.commands.actions import UsageError
from bot.i18n import CATALOGUES, N_, _, activate, chat_language, current, known, language_name
from memory import Memory

# Commands whose arguments are words in the user's language (so they say which language the chat speaks);
# the others take codes, numbers or zone names.
PROSE_ARGS = frozenset({"remind", "search", "forget", "compare", "timeline"})
AUTO = ("auto", "reset", "default")

USAGE = N_("Usage: /language [code] — e.g. /language es (one of: {codes}), or /language auto to follow your "
           "messages.")


async def use_chat_language(memory: Memory, chat_id: int, text: str | None = None,
                            telegram_code: str | None = None) -> str:
    """Choose the chat's language for what follows (this update, this terminal line) and return it."""
    lang = await chat_language(memory, chat_id, text, telegram_code)
    activate(lang)
    return lang


def _usage() -> str:
    return _(USAGE).format(codes=", ".join(CATALOGUES))


def _named(lang: str) -> str:
    """'Spanish (español)' in the current language."""
    own = language_name(lang, lang)
    shown = language_name(lang, current())
    return shown if own.lower() == shown.lower() else f"{shown} ({own})"


async def language_command(memory: Memory, chat_id: int, args: str) -> str:
    """The answer to /language [args], in the language that is current once it has run."""
    wanted = args.strip()
    settings = await memory.messages.chat_settings(chat_id)
    if not wanted:
        lang = current()
        if settings.get("language"):
            return _("This chat is answered in {language}, as chosen with /language. /language auto follows "
                     "your messages again.").format(language=_named(lang))
        return _("This chat is answered in {language}, the language of its messages. Choose one with "
                 "/language es (one of: {codes}).").format(language=_named(lang), codes=", ".join(CATALOGUES))
    if wanted.lower() in AUTO:
        await memory.messages.set_chat_setting(chat_id, language=None)
        activate(settings.get("language_seen") or "en")
        return _("I will answer in the language of your messages.")
    chosen = known(wanted)
    if chosen is None:
        raise UsageError(_("I don't know the language “{name}”.").format(name=wanted) + "\n" + _usage())
    lang = chosen
    await memory.messages.set_chat_setting(chat_id, language=lang)
    activate(lang)
    answer = _("I will answer in {language} in this chat.").format(language=_named(lang))
    if lang not in CATALOGUES:
        answer += " " + _("My own messages have no translation into it yet: they stay in English; the model is "
                          "told to answer in it.")
    return answer
