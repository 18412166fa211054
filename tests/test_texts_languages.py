"""Every command's answer in the chat's language: the commands walked in a Russian and in a Persian chat, in the
terminal chat and in Telegram (the real Application and PTB's HTTP stack against the fake Bot API server), bad
input included (an unreadable time, an unknown topic, a command the front end lacks). A line of an answer that is
still English — ASCII words only, once commands, placeholders, names and numbers are set aside — fails the test
and is named."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM, echo_memories
from telegram_helpers import bot_config, bot_running, command, converse

from bot.cli.chat import Terminal
from bot.config import AssistantConfig, Config, RecallConfig, Statements
from bot.i18n import _, using
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant
from bot.topics.service import TopicService
from memory import HashEmbedder, Message

pytestmark = pytest.mark.timeout(240)

CHAT = 0
ALICE = 1001
ROOT = Path(__file__).resolve().parents[1]

# What may stay in Latin letters inside a translated answer: commands, their arguments as the user types them,
# names of things (models, zones, settings), units.
KEEP = re.compile(
    r"/\w+(?:@\w+)?|<[^<>]*>|\[[^\[\]]*\]|\{[^{}]*\}|\./engram[^\s,;)]*|\b[A-Z]{2,}\w*\b|#\d+|https?://\S+"
    r"|\b(?:Engram|Telegram|Europe/Lisbon|America/New_York|Ctrl-D|auto|all|es|ru|fa|en|uk|pt|de|ms|p50|p95|n|"
    r"MB|KB|GB|JSON|Desktop|result\.json|CHAT_ID|FILE|hash-\w+|scripted\w*|[\w.-]+\.(?:json|png))\b")
ASCII_WORD = re.compile(r"\b[A-Za-z]{3,}\b")
ENGLISH_RUN = re.compile(r"\b[A-Za-z]{2,}\s+[A-Za-z]{3,}\b")  # two English words together, even beside others


def english_lines(text: str, *, names: tuple[str, ...] = ()) -> list[str]:
    """The lines of `text` that are English, or hold English: once commands, placeholders and names are taken
    out, a word of three ASCII letters and no letter of another script, or two ASCII words together."""
    found = []
    for line in text.splitlines():
        rest = line
        for name in names:
            rest = rest.replace(name, " ")
        rest = KEEP.sub(" ", rest)
        translated = any(c.isalpha() and not c.isascii() for c in rest)
        if (not translated and ASCII_WORD.search(rest)) or ENGLISH_RUN.search(rest):
            found.append(line)
    return found


def test_the_check_finds_english_and_lets_commands_and_names_pass():
    assert english_lines("Usage: /remind <when> <what>\nИспользование: /remind <когда> <что>") == \
        ["Usage: /remind <when> <what>"]
    assert english_lines("/search — Engram, 12 MB") == [] and english_lines("/search flat") == ["/search flat"]
    assert english_lines("  /topic 3 for the next") == ["  /topic 3 for the next"]
    assert english_lines("Модель эмбеддингов: hash-64 (64 измерения)") == []
    assert english_lines("Embedding model: hash-64 (64 измерения)") == ["Embedding model: hash-64 (64 измерения)"]


# Messages of four topics in each language (topics need about 50); the words of each topic recur.
TOPICS = {
    "ru": ["собака гуляла в парке с поводком", "квартира аренда хозяин ключи переезд",
           "футбол матч команда забила гол", "рецепт суп чеснок духовка ужин"],
    "fa": ["سگ در پارک با قلاده قدم زد", "آپارتمان اجاره صاحبخانه کلید اسباب‌کشی",
           "فوتبال مسابقه تیم گل زد", "دستور پخت سوپ سیر فر شام"],
}
# Per language: a message that matches nothing, an unreadable time, an impossible time.
WORDS = {
    "ru": {"nothing": "зебра вулкан", "someday": "/remind когда-нибудь купить хлеб",
           "impossible": "/remind завтра в 25:99 купить хлеб", "period": "/topics когда-нибудь потом",
           "unreadable": "Я не нашёл здесь времени.", "asked": "напомни мне когда-нибудь купить хлеб",
           "not_understood": "Я не понял, когда напомнить."},
    "fa": {"nothing": "گورخر آتشفشان", "someday": "/remind یک روزی نان بخر",
           "impossible": "/remind فردا ساعت 25:99 نان بخر", "period": "/topics یک روزی بعدا",
           "unreadable": "در این پیام زمانی پیدا نکردم.", "asked": "یادم بنداز یک روزی نان بخرم",
           "not_understood": "نفهمیدم کی یادآوری کنم."},
}


def chat_messages(chat_id: int, lang: str, n: int = 64) -> list[Message]:
    topics = TOPICS[lang]
    return [Message(chat_id, i + 1, f"{topics[i % 4]} {i}", sender_name="Ana", role="user",
                    created_at=1.79e9 + 3600 * i) for i in range(n)]


def assistant_for(memory) -> Assistant:
    return Assistant(memory, ScriptedLLM(echo_memories), recall=RecallConfig(k=3, min_score=0.0,
                                                                             min_relative_score=0.0),
                     assistant=AssistantConfig(system_prompt="You are a test."), settings=GenerationSettings())


# ----- the terminal ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ru", "fa"])
async def test_terminal_commands_answer_in_the_chats_language(tmp_path, memory, lang):
    out = io.StringIO()
    terminal = Terminal(Config(base_dir=tmp_path), CHAT, "you", out=out)
    await terminal.start_reminders(memory, sweep_seconds=0)
    terminal.assistant = assistant_for(memory)
    terminal.topics = TopicService(memory, cache_dir=str(ROOT / ".cache"), isolated=False)
    await memory.messages.remember_many(chat_messages(CHAT, lang))
    words, first = WORDS[lang], TOPICS[lang][0]
    try:
        await terminal.command(f"/language {lang}")
        answers: dict[str, str] = {}
        for line in ["/start", "/help", "/stats", f"/search {first}", f"/search {words['nothing']}", "/search",
                     "/why", f"/compare {first} | {TOPICS[lang][1]}", "/compare", f"/forget {words['nothing']}",
                     "/forget", f"/export {tmp_path / 'out.json'}", "/topics", "/topic 1", "/topic 2 99",
                     "/topic 99", "/topic x", "/timeline", f"/timeline {words['nothing']}", "/timeline 1", "/map",
                     words["period"], words["someday"], words["impossible"], "/reminders", "/cancel", "/cancel 7",
                     "/timezone", "/timezone Mars/Olympus", "/language", "/import", "/voice", "/nosuch", "/reset",
                     words["asked"]]:
            start = len(out.getvalue())
            await terminal.line(line)
            answers[line] = out.getvalue()[start:]
        await terminal.reply(first)  # an answer and its citation
        answers["reply"] = out.getvalue()[start:]
    finally:
        await terminal.stop_reminders()
        terminal.topics.stop()
    embedder = memory.embedder.name
    names = (embedder, "Ana", "you")
    left = {line: bad for line, shown in answers.items() if (bad := english_lines(shown, names=names))}
    assert left == {}, f"English left in a {lang} chat"
    assert all(shown.strip() for shown in answers.values()), [k for k, v in answers.items() if not v.strip()]
    # Bad input: a time that cannot be read, asked with /remind or in words, is said so in the chat's language.
    assert answers[words["someday"]].startswith(words["unreadable"])
    assert words["not_understood"] in answers[words["asked"]]
    assert "25:99" in answers[words["impossible"]]


# ----- Telegram -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["ru", "fa"])
async def test_telegram_commands_answer_in_the_chats_language(tmp_path, fake, lang):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    config.assistant.statements = Statements.NOTE  # a statement is acknowledged in the chat's language
    words, first = WORDS[lang], TOPICS[lang][0]
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await services.memory.messages.remember_many(chat_messages(ALICE, lang))
        answers = {"reply": await converse(fake, services, ALICE, first)}  # the chat's language, from its words
        for line in ["/start", "/help", "/stats", f"/search {first}", f"/search {words['nothing']}", "/search",
                     "/why", f"/compare {first} | {TOPICS[lang][1]}", "/compare", f"/forget {words['nothing']}",
                     "/export", "/topics", f"/timeline {words['nothing']}", "/timeline", words["someday"],
                     words["impossible"], "/reminders", "/cancel", "/cancel 7", "/timezone", "/timezone Mars/Olympus",
                     "/language", "/voice", "/topic 1", "/import", "/nosuch", "/reset", words["asked"]]:
            shown = await command(fake, ALICE, line, timeout=60)
            answers[line] = shown.get("text") or shown.get("caption") or ""
            buttons = (shown.get("reply_markup") or {}).get("inline_keyboard", [])
            answers[line] += "".join("\n" + b["text"] for row in buttons for b in row)
        assert not fake.errors()
    embedder = services.memory.embedder.name
    names = (embedder, "Ana", "you")
    left = {line: bad for line, shown in answers.items() if (bad := english_lines(shown, names=names))}
    assert left == {}, f"English left in a {lang} chat"
    assert answers[words["someday"]].startswith(words["unreadable"])
    assert words["not_understood"] in answers[words["asked"]]


# ----- topics of a chat in two languages ------------------------------------------------------------------------

def test_a_word_is_dropped_as_a_small_word_of_its_own_script():
    """"well это был a hard day at the office" is read as English; "это" and "был" are Russian small words all
    the same, and never label a topic."""
    from bot.topics.clustering import TopicWords

    words = TopicWords()
    assert words("well это был a hard day at the office") == ["hard", "day", "offic"]
    assert words("ok so the match was great, я думаю что это было супер") == ["match", "дума", "супер"]


MIXED = {  # (English templates, fillers, Russian templates, fillers): one subject, said both ways
    "dog": (["my dog {x} again today", "I think the dog needs {x}", "we took the dog to {x}"],
            ["the vet", "a long walk", "the park", "new food", "a bath"],
            ["моя собака опять {x} сегодня", "я думаю что собаке нужен {x}", "мы водили собаку в {x}"],
            ["ветеринар", "парк", "корм", "поводок", "ошейник"]),
    "flat": (["the landlord wants {x} for the flat", "we are still looking for a flat near {x}"],
             ["more rent", "the station", "the deposit", "the new lease", "the keys"],
             ["хозяин квартиры хочет {x}", "мы всё ещё ищем квартиру возле {x}"],
             ["больше денег", "метро", "залог", "договор", "ключи"]),
    "football": (["did you see the match {x}", "the striker scored {x}", "our team lost {x}"],
                 ["last night", "twice", "again", "in the final", "at the stadium"],
                 ["ты видел матч {x}", "нападающий забил {x}", "наша команда проиграла {x}"],
                 ["вчера вечером", "дважды", "опять", "в финале", "на стадионе"]),
    "cooking": (["I am cooking {x} tonight", "the recipe needs {x}", "we baked {x} for dinner"],
                ["pasta", "garlic", "soup", "bread", "a pie"],
                ["я готовлю {x} сегодня", "для рецепта нужен {x}", "мы испекли {x} на ужин"],
                ["борщ", "чеснок", "суп", "хлеб", "пирог"]),
}


@pytest.mark.slow
def test_a_chat_in_russian_and_english_gets_topics_labelled_by_their_words(minilm):
    """The default (English) model on a chat that speaks Russian and English: every topic's keywords are words of
    its subject, none a small word of either language (multilingual-e5-small, tried by hand on the same chat, gave
    no small word either; it puts a subject's two languages in two topics more often)."""
    import random

    from bot.topics import clustering
    from memory.text import stopwords

    rng = random.Random(1)
    texts = []
    for en, en_x, ru, ru_x in MIXED.values():
        for _i in range(20):
            texts += [rng.choice(en).format(x=rng.choice(en_x)), rng.choice(ru).format(x=rng.choice(ru_x))]
    rng.shuffle(texts)
    model = clustering.find_topics(minilm.embed_batch(texts), texts)
    small = stopwords("ru") | stopwords("en") | stopwords("uk")
    assert len(model.topics) >= 4
    keywords = [w for t in model.topics for w in t.keywords]
    assert keywords and not [w for w in keywords if w.lower() in small]
    assert all(t.keywords for t in model.topics)


def test_pictures_are_drawn_in_the_chats_language_unless_it_is_written_right_to_left():
    """A timeline's bars are labelled as the chat writes months; a Persian chat's picture keeps English words
    (matplotlib cannot join or order Persian letters), its caption being Persian all the same."""
    from datetime import datetime, timezone

    import numpy as np

    from bot.i18n import drawn_language, using
    from bot.topics.service import count_by_period

    times = np.array([datetime(2026, 1, 5, tzinfo=timezone.utc).timestamp(),
                      datetime(2026, 11, 20, tzinfo=timezone.utc).timestamp()])
    with using("ru"):
        russian = count_by_period(times, "UTC")
        assert drawn_language() == "ru"
    with using("fa"):
        persian = count_by_period(times, "UTC")
        assert drawn_language() == "en"
    assert russian.unit == "month" and len(russian.buckets) == 11
    assert not russian.buckets[-1].isascii() and russian.buckets[-1].endswith("2026")
    assert persian.buckets[-1] == "Nov 2026"


@pytest.mark.parametrize(("lang", "said"), [("ru", "x.json пуст (0 байт): импортировать нечего."),
                                            ("fa", "\u200fx.json خالی است (۰ بایت): چیزی برای درون‌ریزی نیست.")])
def test_a_file_that_cannot_be_imported_is_said_so_in_the_chats_language(lang, said):
    """(A Persian sentence that starts with a Latin file name starts with a right-to-left mark, U+200F, so Telegram
    and bidi terminals lay the paragraph out right to left.)"""
    from bot.i18n import using
    from bot.importing import ImportFileError, parse

    with using(lang), pytest.raises(ImportFileError) as caught:
        parse(b"", "x.json")
    assert str(caught.value).startswith(said) and not english_lines(str(caught.value), names=("Telegram Desktop",))


# Bad input, in every language with a catalogue: each answer differs from the English one, and shares none of its
# sentences (a line of the English answer left in it, untranslated, fails). Latin-script languages are checked
# against English itself, which the ASCII test above cannot do.
BAD_INPUT = ["/remind", "/remind 25:99", "/search", "/compare", "/forget", "/topic", "/topic 3", "/timeline",
             "/timeline 2", "/topics 31.02.1999 и 2 марта", "/cancel", "/cancel 12", "/timezone Nowhere/Land",
             "/language xx-yy", "/voice", "/import", "/nosuch", "/why", "/reminders"]


async def _answers(tmp_path, memory, lang: str) -> dict[str, str]:
    out = io.StringIO()
    terminal = Terminal(Config(base_dir=tmp_path), CHAT, "you", out=out)
    await terminal.start_reminders(memory, sweep_seconds=0)
    terminal.assistant = assistant_for(memory)
    terminal.topics = TopicService(memory, cache_dir=str(ROOT / ".cache"), isolated=False)
    answers = {}
    try:
        await terminal.command(f"/language {lang}")
        for line in BAD_INPUT:
            start = len(out.getvalue())
            await terminal.line(line)
            answers[line] = out.getvalue()[start:]
    finally:
        await terminal.stop_reminders()
        terminal.topics.stop()
    return answers


@pytest.mark.parametrize("lang", ["ru", "uk", "es", "pt", "de", "fa"])
async def test_bad_input_is_answered_in_every_catalogues_language(tmp_path, memory, lang):
    english = await _answers(tmp_path, memory, "en")
    translated = await _answers(tmp_path, memory, lang)
    for line in BAD_INPUT:
        assert translated[line].strip() and translated[line] != english[line], line
        sentences = {s.strip() for s in english[line].splitlines() if ASCII_WORD.search(KEEP.sub(" ", s))}
        left = [s for s in translated[line].splitlines() if s.strip() in sentences]
        assert not left, (line, left)


def test_persian_sentences_that_start_with_latin_text_are_laid_out_right_to_left():
    """A paragraph's direction is its first strong letter's (UAX #9): "/import در …" or "x.json خالی است" would be
    laid out left to right, its Persian runs in the wrong order; a right-to-left mark first keeps it Persian."""
    import unicodedata

    from bot.commands import table
    from bot.commands.table import FrontEnd
    from bot.i18n import using

    def first_strong(text: str) -> str:
        return next(unicodedata.bidirectional(c) for c in text if unicodedata.bidirectional(c) in ("L", "R", "AL"))

    with using("fa"):
        missing = table.missing_text("import", FrontEnd.TERMINAL)
    assert missing is not None and first_strong(missing) == "R"


# ----- every fixed line of the terminal, in every catalogue -------------------------------------------------------

# The commands walked with nothing to read in another language (their answers are fixed texts), a reply with its
# citation, and a plain-language request: a line that is the English run's own, with English words in it, is a
# fixed text the catalogue lacks. Latin-script languages too (checked against English, not for ASCII).
WALK = ["/start", "/help", "/stats", "/search", "/why", "/compare", "/forget", "/topics", "/topic 1", "/topic 99",
        "/topic x", "/timeline", "/timeline 1", "/map", "/reminders", "/cancel", "/cancel 7", "/timezone",
        "/timezone Mars/Olympus", "/language", "/import", "/voice", "/nosuch", "/remind"]


async def _walk(tmp_path, lang: str) -> dict[str, str]:
    from memory import Memory

    memory = Memory(tmp_path / f"{lang}.db", HashEmbedder(64))
    await memory.start()
    out = io.StringIO()
    terminal = Terminal(Config(base_dir=tmp_path), CHAT, "you", out=out)
    await terminal.start_reminders(memory, sweep_seconds=0)
    terminal.assistant = assistant_for(memory)
    await terminal.assistant.llm.start()
    terminal.topics = TopicService(memory, cache_dir=str(ROOT / ".cache"), isolated=False)
    answers = {}
    try:
        await terminal.command(f"/language {lang}")
        await terminal.reply("1234 5678")  # stored with the terminal's name, cited under the next reply
        for line in ["1234 5678?", *WALK, "/search 1234"]:
            start = len(out.getvalue())
            await terminal.line(line)
            answers[line] = out.getvalue()[start:]
    finally:
        await terminal.stop_reminders()
        terminal.topics.stop()
        await memory.stop()
    return answers


@pytest.mark.parametrize("lang", ["ru", "uk", "es", "pt", "de", "fa"])
async def test_every_fixed_line_of_the_terminal_is_translated_in_every_catalogue(tmp_path, lang):
    english = await _walk(tmp_path / "en", "en")
    translated = await _walk(tmp_path / lang, lang)
    for line in WALK:
        assert translated[line].strip(), line
    untranslated = {}
    for line, shown in translated.items():
        sentences = {s.strip() for s in english[line].splitlines()
                     if ASCII_WORD.search(KEEP.sub(" ", s.replace(HashEmbedder(64).name, " ")))}
        if left := [s for s in shown.splitlines() if s.strip() in sentences]:
            untranslated[line] = left
    assert untranslated == {}
    # the terminal's own name in the citation under a reply is the chat's word for "you"
    with using(lang):
        you = _("you")
    cited = translated["1234 5678?"].replace("\u2068", "").replace("\u2069", "")  # a name isolated (RTL)
    assert f", {you}: “1234 5678”" in cited and you != "you" and "you>" not in cited, cited


async def test_every_fixed_line_of_the_telegram_handlers_is_translated_in_every_catalogue(tmp_path, fake):
    """The same walk through the Telegram handlers: one chat per language, each line compared with the English
    chat's (buttons included); the citation names the sender as Telegram gave it."""
    langs = ["en", "ru", "uk", "es", "pt", "de", "fa"]
    users = {lang: ALICE + n for n, lang in enumerate(langs)}
    config = bot_config(tmp_path, fake, allowed_user_ids=list(users.values()))
    answers: dict[str, dict[str, str]] = {}
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        for lang, user in users.items():
            await command(fake, user, f"/language {lang}")
            await converse(fake, services, user, "1234 5678")
            answers[lang] = {"1234 5678?": await converse(fake, services, user, "1234 5678?")}
            for line in [w for w in WALK if w not in ("/map", "/timeline 1")]:  # pictures: no text to compare
                shown = await command(fake, user, line, timeout=60)
                buttons = (shown.get("reply_markup") or {}).get("inline_keyboard", [])
                answers[lang][line] = (shown.get("text") or shown.get("caption") or "") + "".join(
                    "\n" + b["text"] for row in buttons for b in row)
        assert not fake.errors()
    names = (services.memory.embedder.name, "Alice", "Ana")
    for lang in langs[1:]:
        untranslated = {}
        for line, shown in answers[lang].items():
            english = {s.strip() for s in answers["en"][line].splitlines()
                       if ASCII_WORD.search(KEEP.sub(" ", s.replace(names[0], " ")))}
            if left := [s for s in shown.splitlines() if s.strip() in english]:
                untranslated[line] = left
        assert untranslated == {}, lang
