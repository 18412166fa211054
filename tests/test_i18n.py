"""The message catalogues (bot/locale) and the chat's language (bot/i18n.py): every text of the code is in the
template, every catalogue translates all of it with the same placeholders, the committed .mo files are the .po
files compiled, and the language a chat is answered in is chosen as documented."""

from __future__ import annotations

import asyncio
import gettext
import io
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot import i18n
from bot.i18n import CATALOGUES, LOCALE_DIR, _, isolate, ngettext, using

ROOT = Path(__file__).resolve().parent.parent
TRANSLATED = [lang for lang in CATALOGUES if lang != "en"]


def _ids(catalog) -> set:
    return {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id}


def test_the_template_has_every_text_the_code_marks():
    """Someone who adds _("…") runs ./engram i18n; forgetting it fails here, not in a Russian chat."""
    found: set = set()
    for folder in ("bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                str(ROOT / folder), keywords={"_": None, "N_": None, "ngettext": (1, 2)}):
            found.add(message if isinstance(message, str) else tuple(message))
    with open(LOCALE_DIR / "engram.pot", "rb") as f:
        template = _ids(read_po(f))
    assert found - template == set(), "run ./engram i18n: the template lacks these"
    assert template - found == set(), "run ./engram i18n: the template has texts the code no longer has"


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


# The share of the template each catalogue must translate. Every text is translated today; a text added since
# (wrapped, ./engram i18n run) shows in English until translated, and may not bring a catalogue under this floor.
MIN_TRANSLATED = 0.8


@pytest.mark.parametrize("lang", TRANSLATED)
def test_each_catalogue_translates_the_template_with_the_same_placeholders(lang):
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "engram.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    with open(LOCALE_DIR / "engram.pot", "rb") as f:
        assert _ids(catalog) == _ids(read_po(f)), "run ./engram i18n update"
    translated = 0
    messages = [m for m in catalog if m.id]
    for message in messages:
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert "fuzzy" not in message.flags, f"{lang}: fuzzy {ids[0]!r}"
        if not all(s.strip() for s in strings):
            continue  # not translated yet: shown in English
        translated += 1
        wanted = set().union(*(_fields(i) for i in ids))
        for s in strings:
            assert _fields(s) <= wanted, f"{lang}: {s!r} has placeholders {ids[0]!r} does not fill"
            if isinstance(message.id, str):
                assert _fields(s) == wanted, f"{lang}: {s!r} drops a placeholder of {ids[0]!r}"
    assert translated / len(messages) >= MIN_TRANSLATED, f"{lang}: {translated} of {len(messages)} translated"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_the_committed_mo_is_its_po_compiled(lang):
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    with open(folder / "engram.po", "rb") as f:
        catalog = read_po(f, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    with open(folder / "engram.mo", "rb") as f:
        committed = gettext.GNUTranslations(f)
    assert committed._catalog == fresh._catalog, "run ./engram i18n compile"  # type: ignore[attr-defined]


def test_texts_follow_the_current_language_and_plural_rules():
    with using("ru"):
        assert _("Pending reminders:") == "Напоминания:"
        forms = [ngettext("every {n} hour", "every {n} hours", n).format(n=n) for n in (2, 5, 21)]
        assert forms == ["каждые 2 часа", "каждые 5 часов", "каждый 21 час"]
    with using("es"):
        assert _("Pending reminders:") == "Recordatorios pendientes:"
    with using("tr"):  # no catalogue: English
        assert _("Pending reminders:") == "Pending reminders:"
    assert _("Pending reminders:") == "Pending reminders:"


async def test_two_tasks_answer_in_their_own_languages_at_once():
    async def answer(lang: str) -> list[str]:
        i18n.activate(lang)
        out = []
        for _i in range(3):
            await asyncio.sleep(0.01)
            out.append(_("Cancel"))
        return out

    ru, es = await asyncio.gather(answer("ru"), answer("es"))
    assert ru == ["Отменить"] * 3 and es == ["Cancelar"] * 3


def test_right_to_left_text_is_isolated_and_other_text_left_alone():
    assert isolate("فر را خاموش کنم") == "\u2068فر را خاموش کنم\u2069"
    assert isolate("call Ana") == "call Ana" and isolate("позвонить маме") == "позвонить маме"
    with using("en"):
        from bot.reminders.texts import cancelled_text
        from memory.reminders import Reminder

        shown = cancelled_text(Reminder(id=3, chat_id=1, created_by=None, text="نان بخر", due_at=0.0,
                                        recurrence=None, timezone="UTC", status="cancelled", created_at=0.0))
    assert shown == "Cancelled #3: \u2068نان بخر\u2069"


@pytest.mark.parametrize(("text", "expected"), [
    ("Мою собаку зовут Барон.", "ru"), ("Мій собака — Барон, він ще цуценя.", "uk"),
    ("سگ من بارون نام دارد", "fa"), ("كلبي اسمه بارون", "ar"), ("我的狗叫巴龙", "zh"),
    ("¿Dónde vive mi hermana?", "es"), ("My dog is Rex", None), ("12:30", None)])
def test_the_placeholder_detector_tells_scripts_apart(text, expected):
    assert i18n.script_language(text) == expected


async def test_a_chats_language_explicit_then_its_messages_then_telegrams(memory):
    assert await i18n.chat_language(memory, 5) == "en"
    assert await i18n.chat_language(memory, 5, telegram_code="pt-BR") == "pt"
    assert await i18n.chat_language(memory, 5, "Как зовут мою собаку?", telegram_code="en") == "ru"
    assert await i18n.chat_language(memory, 5, None, telegram_code="en") == "ru"  # the last seen, for /reminders
    await memory.messages.set_chat_setting(5, language="es")
    assert await i18n.chat_language(memory, 5, "Как зовут мою собаку?") == "es"
    assert (await memory.messages.chat_settings(5))["language_seen"] == "ru"
    await memory.messages.move_chat(5, -1005)  # a group that became a supergroup keeps its language
    assert (await memory.messages.chat_settings(-1005))["language"] == "es"


def test_languages_are_known_by_code_or_name():
    assert [i18n.known(x) for x in ("es", "Spanish", "español", "pt-BR", "RU", "fa", "xx", "")] == \
        ["es", "es", "es", "pt", "ru", "fa", None, None]
    assert i18n.language_name("fa") == "Persian" and i18n.is_rtl("fa") and not i18n.is_rtl("ru")


def test_right_to_left_memories_are_isolated_in_citations_and_lists_in_html_and_plain():
    from bot.commands.views import message_line
    from bot.reply.citation import citation_text
    from bot.text import HTML, PLAIN
    from memory import Message

    said = Message(1, 1, "سگ من بارون <نام> دارد", sender_name="Ana", created_at=1_700_000_000)
    html = citation_text(said, HTML)
    assert html == "— 2023-11-14, Ana: “\u2068سگ من بارون &lt;نام&gt; دارد\u2069”"
    assert citation_text(said, PLAIN).endswith("“\u2068سگ من بارون <نام> دارد\u2069”")
    assert message_line(said, PLAIN).endswith("Ana: \u2068سگ من بارون <نام> دارد\u2069")
    english = Message(1, 2, "My dog is Rex", sender_name="Ana", created_at=1_700_000_000)
    assert citation_text(english, PLAIN) == "— 2023-11-14, Ana: “My dog is Rex”"
