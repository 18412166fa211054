"""The language a chat is answered in, and every fixed text in it (gettext catalogues).

Wrapping a text (the one convention for the whole code base):

    from bot.i18n import _, ngettext, N_

    _("Noted.")                                   # translated into the current chat's language
    _("Cancelled #{id}: {text}").format(id=…, text=…)   # placeholders by name, formatted after translating
    ngettext("{n} message", "{n} messages", n).format(n=n)   # plural forms from the catalogue (CLDR rules)
    USAGE = N_("Usage: …")  … _(USAGE)            # a module-level constant: marked for extraction, translated at use

The *current* language is a context variable: a front end sets it once per update or terminal line
(`activate(lang)`, or `with using(lang):`), and every `_()` below it — in the reply, the reminder service, the
views, a thread started with asyncio.to_thread — answers in it. Tasks copy the context when they start, so two
chats answered at once never see each other's language. Code that works for a chat outside an update (a reminder
firing) sets it itself (`with using(await chat_language(...))`).

Catalogues: bot/locale/engram.pot (extracted with Babel: `./engram i18n`), bot/locale/<lang>/LC_MESSAGES/engram.po
(translations) and the compiled engram.mo next to it. The .mo files are committed: a fresh checkout and the Docker
image answer in every language with no build step, and tests/test_i18n.py fails when a .mo is not its .po
compiled or a text in the code is missing from the .pot. At run time only the standard library's gettext reads them;
Babel (also a dependency) gives language names and CLDR date formats, and is the catalogue tooling.

Which language: a chat's explicit choice (/language), else the language of the message being answered (the
detector `identified`, memory/lang.py's identifier, unless `set_detector` gives another), else the one last seen
in the chat, else Telegram's `language_code`, else English.
"""

from __future__ import annotations

import gettext
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "engram"
DEFAULT = "en"
# The languages with a catalogue of Engram's own texts (any other language is still detected, named to the model
# and read by dateparser; its fixed texts are English).
CATALOGUES = ("en", "ru", "uk", "es", "pt", "de", "fa")

_current: ContextVar[str] = ContextVar("engram_language", default=DEFAULT)

Detector = Callable[[str], "str | None"]


# ----- translating ------------------------------------------------------------------------------------------------

@cache
def translation(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str) -> str:
    """`message` in the current chat's language (English when there is no translation)."""
    return translation(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a counted text the current language needs for n (Russian has three, Persian one)."""
    return translation(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a constant for extraction without translating it now: translate it where it is used, `_(CONST)`."""
    return message


def current() -> str:
    return _current.get()


def activate(lang: str | None) -> None:
    """Answer in `lang` from here on, in this task (a front end, at the start of an update)."""
    _current.set(normalise(lang) or DEFAULT)


@contextmanager
def using(lang: str | None) -> Iterator[str]:
    """Answer in `lang` inside the block."""
    token = _current.set(normalise(lang) or DEFAULT)
    try:
        yield _current.get()
    finally:
        _current.reset(token)


# ----- languages --------------------------------------------------------------------------------------------------

def normalise(code: str | None) -> str | None:
    """'pt-br' -> 'pt', 'en_US' -> 'en', 'RU' -> 'ru'; None for nothing or something that is not a code."""
    if not code:
        return None
    base = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    return base if re.fullmatch(r"[a-z]{2,3}", base) else None


def known(code: str | None) -> str | None:
    """The normalised code when Babel knows the language ('es', 'Spanish', 'español' all give 'es'), else None."""
    from babel import Locale, UnknownLocaleError

    if not code:
        return None
    lowered = code.strip().lower()
    for lang in CATALOGUES:  # names in English and in the language itself
        names = {(Locale.parse(lang).get_display_name(shown) or "").lower() for shown in ("en", lang)}
        if lowered in names:
            return lang
    base = normalise(lowered)
    if base is None:
        return None
    try:
        Locale.parse(base)
    except (UnknownLocaleError, ValueError):
        return None
    return base


def language_name(code: str, in_language: str = "en") -> str:
    """'ru' -> 'Russian' (or 'русский' with in_language='ru')."""
    from babel import Locale, UnknownLocaleError

    try:
        name = Locale.parse(code).get_display_name(in_language)
    except (UnknownLocaleError, ValueError):
        return code
    return name or code


@cache
def is_rtl(code: str) -> bool:
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(code).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


def drawn_language() -> str:
    """The language a picture's words are drawn in: the current one, or English for a right-to-left language
    (matplotlib neither joins Arabic-script letters nor orders right-to-left text: Persian would come out broken;
    the caption under the picture is in the chat's language all the same)."""
    return DEFAULT if is_rtl(current()) else current()


def number(n: int) -> str:
    """A count as the current language writes it: 12,000 / 12 000 / 12.000."""
    from babel.numbers import format_decimal

    return format_decimal(n, locale=current())


# ----- dates ------------------------------------------------------------------------------------------------------

def local_time(when: datetime | float, tz: str) -> str:
    """A moment as the current language writes it, in the given zone: 'Fri 24 Dec 2026 20:00',
    'пт 24 дек. 2026 20:00', 'vie 24 dic 2026 20:00' (CLDR, through Babel)."""
    from babel.dates import format_datetime

    if not isinstance(when, datetime):
        when = datetime.fromtimestamp(when, tz=timezone.utc)
    local = when.astimezone(ZoneInfo(tz))
    if current() == "en":  # the format English chats have always had (and tests and users rely on)
        return local.strftime("%a %d %b %Y %H:%M")
    return format_datetime(local.replace(tzinfo=None), "EEE dd MMM y HH:mm", locale=current())


# ----- right-to-left text among left-to-right text ----------------------------------------------------------------

FSI, PDI = "\u2068", "\u2069"  # first-strong isolate ... pop directional isolate
_RTL_RUN = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]"
                      r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff\s\d\u200c\u200f.,:;!?()«»\"'\-]*")


def has_rtl(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in text)


def isolate(text: str) -> str:
    """Wrap user text in Unicode isolates when it holds right-to-left letters, so a Persian reminder inside an
    English confirmation ("OK, I will remind you on … : …") keeps its own order and does not reorder the numbers
    and punctuation around it (Unicode bidi, UAX #9). Telegram and terminals that implement bidi honour FSI/PDI;
    the marks are invisible. Left-to-right text is returned as it is."""
    if not has_rtl(text):
        return text
    return f"{FSI}{text}{PDI}"


# ----- which language a chat is answered in ------------------------------------------------------------------------

_CYRILLIC_UK = set("іїєґІЇЄҐ")
_CYRILLIC_RU = set("ыэъёЫЭЪЁ")
_PERSIAN = set("پچژگکی")


def script_language(text: str) -> str | None:
    """The minimum a chat needs before a real language identifier is wired in (set_detector): the language a
    script alone says (Cyrillic: Ukrainian if it has і/ї/є/ґ, else Russian; Arabic script: Persian if it has
    پ چ ژ گ or the Persian ک/ی, else Arabic; Hebrew; Greek; CJK). Latin text says nothing (None: the chat's last
    language, Telegram's language_code or English decide) unless a letter only Spanish (ñ ¿ ¡), Portuguese (ã õ)
    or German (ß ä ö ü) uses says otherwise: a placeholder, not identification."""
    counts: dict[str, int] = {}
    for c in text:
        if not c.isalpha():
            continue
        name = unicodedata.name(c, "")
        script = name.split(" ", 1)[0]
        if script in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL"):
            script = {"CJK": "zh", "HIRAGANA": "ja", "KATAKANA": "ja", "HANGUL": "ko"}[script]
        counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    script = max(counts, key=lambda s: counts[s])
    if script == "CYRILLIC":
        if any(c in _CYRILLIC_UK for c in text) and not any(c in _CYRILLIC_RU for c in text):
            return "uk"
        return "ru"
    if script == "ARABIC":
        return "fa" if any(c in _PERSIAN for c in text) else "ar"
    if counts.get("ja"):
        return "ja"
    if script == "LATIN":
        for letters, lang in (("ñ¿¡", "es"), ("ãõ", "pt"), ("ßäöü", "de")):
            if any(c in letters for c in text.lower()):
                return lang
        return None
    return {"HEBREW": "he", "GREEK": "el", "zh": "zh", "ko": "ko"}.get(script)


SURE = 0.6  # how sure the language-id model must be to move a Latin-script chat to another language…
NOT_ENGLISH = 0.05  # …unless it hardly thinks it English ("Adik saya tinggal di Bandung.": Indonesian at 0.58)


def identified(text: str) -> str | None:
    """memory's language identifier (memory/lang.py: the script, letters of one language, greetings, fastText's
    compressed model) for a message of three words or more; a shorter one ("ok", "Paris?") is read by its script
    alone. A Latin-script message names another language than English only when the model is sure of it, or sure
    it is not English: "I live in Porto." was Italian at 0.49 and English at 0.20 — unsure, the chat keeps the
    language it had."""
    from memory.lang import certainty, language_of
    from memory.text import words

    if len(words(text)) < 3:
        return script_language(text)
    lang = language_of(text, default="") or None
    if lang is None or script_language(text) is not None:  # a script of its own (Cyrillic, Arabic, CJK…): certain
        return lang
    if lang == "en":
        return lang
    sure = certainty(text)
    return lang if sure.get(lang, 0.0) >= SURE or sure.get("en", 0.0) < NOT_ENGLISH else None


_detector: Detector = identified


def set_detector(detector: Detector) -> None:
    """Use another language identifier (text -> ISO 639-1 code or None when unsure), e.g. memory's language_of."""
    global _detector
    _detector = detector


def detect(text: str | None) -> str | None:
    if not text or not text.strip():
        return None
    return normalise(_detector(text))


async def chat_language(memory: Any, chat_id: int, text: str | None = None, telegram_code: str | None = None,
                        default: str = DEFAULT) -> str:
    """The language to answer `text` in this chat (see the module's docstring for the order), remembering a newly
    seen one for the chat's later commands without text (/reminders)."""
    settings = await memory.messages.chat_settings(chat_id)
    if settings.get("language"):
        return settings["language"]
    seen = detect(text)
    if seen is not None:
        if seen != settings.get("language_seen"):
            await memory.messages.set_chat_setting(chat_id, language_seen=seen)
        return seen
    return settings.get("language_seen") or normalise(telegram_code) or default
