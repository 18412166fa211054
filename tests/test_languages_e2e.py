"""Reminders and fixed texts in the chat's language, end to end: the terminal chat (the real ReminderService on
asyncio timers) and Telegram (the real Application and PTB's HTTP stack against the fake Bot API server). A
Russian request sets a reminder confirmed in Russian and delivered in Russian; /language es switches every fixed
text to Spanish; a time that cannot be read is said so in the chat's language."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import datetime, timedelta, timezone

import pytest
from fake_llm import ScriptedLLM, echo_memories
from telegram_helpers import bot_config, bot_running, button, command, converse

from bot.cli.chat import Terminal
from bot.config import Config
from bot.reminders.service import ChatScope, ReminderService
from bot.reminders.timers import AsyncioTimers
from memory import HashEmbedder

pytestmark = pytest.mark.timeout(90)

CHAT = 0
ALICE = 1001


# ----- the terminal ---------------------------------------------------------------------------------------------

@pytest.fixture
async def terminal(tmp_path, memory):
    terminal = Terminal(Config(base_dir=tmp_path), CHAT, "you", out=io.StringIO())
    await terminal.start_reminders(memory, sweep_seconds=0)
    yield terminal
    await terminal.stop_reminders()


def printed(terminal: Terminal) -> str:
    assert isinstance(terminal.out, io.StringIO)
    return terminal.out.getvalue()


async def until(condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.05)


async def test_terminal_a_russian_request_is_set_confirmed_and_delivered_in_russian(terminal, memory):
    before = time.time()
    assert await terminal.action("напомни мне через 2 минуты позвонить маме")
    assert "⏰ Хорошо, напомню " in printed(terminal) and "(UTC): позвонить маме\n(#1; /cancel 1 — отменить)" \
        in printed(terminal)
    (set_,) = await memory.reminders.pending(CHAT)
    assert set_.text == "позвонить маме" and before + 119 <= set_.due_at <= time.time() + 121
    # The same words, due in two seconds, are delivered while the chat is open, in Russian.
    assert await terminal.action("напомни мне через 2 секунды выключить духовку")

    async def delivered() -> bool:
        return "⏰ выключить духовку\n" in printed(terminal)

    await until(delivered, f"not delivered:\n{printed(terminal)}")
    stored = [m.text for m in await memory.messages.recent(CHAT, 10)]
    assert "напомни мне через 2 минуты позвонить маме" in stored and "Напоминание: выключить духовку" in stored
    await terminal.command("/reminders")
    assert "Напоминания:\n#1 · " in printed(terminal) and "каждый" not in printed(terminal)


async def test_terminal_the_two_minute_reminder_itself_is_delivered_in_russian_when_its_time_comes(terminal, memory):
    """The acceptance's own words, delivered: the service is started again with its clock running two minutes
    ahead (118 s), so the reminder set "через 2 минуты" falls due two seconds later and fires then, on time."""
    assert await terminal.action("напомни мне через 2 минуты позвонить маме")
    await terminal.stop_reminders()
    timers = AsyncioTimers()
    service = ReminderService(memory, timers, terminal.deliver, "UTC", sweep_seconds=0,
                              clock=lambda: datetime.now(timezone.utc) + timedelta(seconds=118),
                              chats=ChatScope(only=frozenset({CHAT})))
    await service.start()
    try:
        async def delivered() -> bool:
            return "⏰ позвонить маме\n" in printed(terminal)

        await until(delivered, f"not delivered:\n{printed(terminal)}")
    finally:
        await service.stop()
        await timers.close()
    assert "(с опозданием)" not in printed(terminal)
    assert "Напоминание: позвонить маме" in [m.text for m in await memory.messages.recent(CHAT, 10)]
    assert await memory.reminders.pending(CHAT) == []


async def test_terminal_language_es_switches_the_fixed_texts_and_errors(terminal):
    await terminal.command("/language es")
    assert printed(terminal).endswith("En este chat responderé en español.\n")
    await terminal.command("/reminders")
    assert printed(terminal).endswith("No hay recordatorios pendientes. Crea uno con /remind <cuándo> <qué>.\n")
    await terminal.command("/remind algún día comprar pan")
    assert "No encontré ninguna hora en eso.\nUso: /remind <cuándo> <qué>\nEjemplos:\n" in printed(terminal)
    await terminal.command("/remind todos los días a las 8 estiramientos")
    assert "cada día a las 08:00: estiramientos" in printed(terminal)
    await terminal.command("/help")
    assert "ver o elegir el idioma en que se responde este chat" in printed(terminal)
    await terminal.command("/language klingon")
    assert "No conozco el idioma «klingon»." in printed(terminal)
    await terminal.command("/language auto")
    assert printed(terminal).endswith("I will answer in the language of your messages.\n")
    await terminal.command("/reminders")
    assert "Pending reminders:" in printed(terminal)


# ----- Telegram ---------------------------------------------------------------------------------------------------

@pytest.fixture
def config(tmp_path, fake):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    config.reminders.min_interval_seconds = 1
    return config


async def test_telegram_a_russian_request_is_set_confirmed_and_delivered_in_russian(fake, config):
    llm = ScriptedLLM(echo_memories)
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        reply = await converse(fake, services, ALICE, "напомни мне через 2 минуты позвонить маме",
                               language_code="ru")
        assert reply.startswith("⏰ Хорошо, напомню ") and reply.endswith("(UTC): позвонить маме\n"
                                                                          "(#1; /cancel 1 — отменить)")
        confirm = fake.bot_messages(ALICE)[-1]
        assert button(confirm, "Отменить").startswith("rem:cancel:")
        await converse(fake, services, ALICE, "напомни мне через 2 секунды выключить духовку")

        async def delivered() -> bool:
            return any(m.get("text") == "⏰ выключить духовку" for m in fake.bot_messages(ALICE))

        await until(delivered, "the Russian reminder was not delivered", timeout=15)
        assert llm.prompts == []  # requests are confirmed, not answered by the model
        texts = [m["text"] for m in await services.memory.messages.export(ALICE)]
        assert "Напоминание: выключить духовку" in texts
        listing = await command(fake, ALICE, "/reminders")
        assert listing["text"].startswith("Напоминания:\n#1 · ") and "позвонить маме" in listing["text"]
        assert button(listing, "Отменить #1")
        # The two-minute one itself: the service restarted with its clock running ahead, so that it falls due
        # two seconds later (and is delivered on time, not late).
        (pending,) = await services.memory.reminders.pending(ALICE)
        ahead = timedelta(seconds=pending.due_at - time.time() - 2)
        old = services.reminders
        await old.stop()
        services.reminders = ReminderService(
            services.memory, old.timers, old.send, "UTC", sweep_seconds=0, chats=old.chats,
            clock=lambda: datetime.now(timezone.utc) + ahead)
        await services.reminders.start()

        async def on_time() -> bool:
            return any(m.get("text") == "⏰ позвонить маме" for m in fake.bot_messages(ALICE))

        await until(on_time, "the two-minute Russian reminder was not delivered", timeout=15)


async def test_telegram_language_es_switches_the_fixed_texts_and_errors(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)):
        assert "en" not in fake.commands_by_language and "es" in fake.commands_by_language
        spanish_menu = {c["command"]: c["description"] for c in fake.commands_by_language["es"]}
        assert spanish_menu["reminders"] == "los recordatorios pendientes del chat"
        assert (await command(fake, ALICE, "/language es"))["text"] == "En este chat responderé en español."
        assert (await command(fake, ALICE, "/reminders"))["text"].startswith("No hay recordatorios pendientes.")
        bad = await command(fake, ALICE, "/remind algún día comprar pan")
        assert bad["text"].startswith("No encontré ninguna hora en eso.\nUso: /remind <cuándo> <qué>")
        impossible = await command(fake, ALICE, "/remind mañana a las 25:99 comprar pan")
        assert impossible["text"].startswith("«25:99» no es una hora del día.")
        confirm = await command(fake, ALICE, "/remind mañana a las 9 comprar pan")
        assert confirm["text"].startswith("⏰ De acuerdo, te lo recordaré el ") and "comprar pan" in confirm["text"]
        help_text = (await command(fake, ALICE, "/help"))["text"]
        assert help_text.startswith("Comandos\n") and "crear un recordatorio" in help_text
        shown = (await command(fake, ALICE, "/language"))["text"]
        assert shown.startswith("Este chat se responde en español, elegido con /language.")


async def test_telegram_language_code_chooses_until_a_message_says_otherwise(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)):
        listing = await command(fake, ALICE, "/reminders", language_code="pt-br")
        assert listing["text"].startswith("Não há lembretes pendentes.")
        bad = await command(fake, ALICE, "/remind когда-нибудь купить хлеб", language_code="pt-br")
        assert bad["text"].startswith("Я не нашёл здесь времени.")  # the words are Russian: so is the answer


async def test_telegram_a_persian_memory_cited_under_an_english_reply_keeps_its_order(fake, config):
    """Right-to-left text among left-to-right in Telegram HTML: the cited memory arrives isolated (FSI … PDI),
    accepted by the Bot API's HTML parser, and the memory itself is stored as it was written."""
    from bot.config import Statements

    config.assistant.statements = Statements.NOTE
    async with bot_running(config, ScriptedLLM("Your dog is called بارون."), HashEmbedder(64)) as services:
        await converse(fake, services, ALICE, "My dog is called بارون.")
        reply = await converse(fake, services, ALICE, "What is my dog called?")
        assert reply.startswith("Your dog is called بارون.")
        assert "“\u2068My dog is called بارون.\u2069”" in reply
        assert not fake.errors()
        stored = [m["text"] for m in await services.memory.messages.export(ALICE) if m["role"] == "user"]
        assert stored[0] == "My dog is called بارون."


# ----- parts of the day and unreadable times, in every catalogued language -----------------------------------------

# (language, a request naming a part of the day, its recurrence, its text)
EVENINGS = [
    ("ru", "напомни мне каждый вечер в 9 пить таблетки", "daily 21:00", "пить таблетки"),
    ("uk", "нагадай мені щовечора о 9 пити ліки", "daily 21:00", "пити ліки"),
    ("es", "recuérdame todas las noches a las 9 tomar las pastillas", "daily 21:00", "tomar las pastillas"),
    ("pt", "lembre-me toda noite às 9 de tomar o remédio", "daily 21:00", "tomar o remédio"),
    ("de", "erinnere mich jeden Abend um 9 an die Tabletten", "daily 21:00", "die Tabletten"),
    ("fa", "یادم بنداز هر شب ساعت ۹ قرص بخورم", "daily 21:00", "قرص بخورم"),
]
# (language, "tomorrow morning / afternoon …" once, the local time it is due, its text)
TOMORROWS = [
    ("ru", "напомни мне завтра утром позвонить маме", "09:00", "позвонить маме"),
    ("uk", "нагадай мені завтра ввечері о 8 подзвонити мамі", "20:00", "подзвонити мамі"),
    ("es", "recuérdame mañana por la tarde llamar a mamá", "15:00", "llamar a mamá"),
    ("pt", "lembre-me amanhã de manhã de ligar para a mãe", "09:00", "ligar para a mãe"),
    ("de", "erinnere mich morgen Abend um 9 Mama anzurufen", "21:00", "Mama anzurufen"),
    ("fa", "یادم بنداز فردا صبح به مامان زنگ بزنم", "09:00", "به مامان زنگ بزنم"),
]
# (language, a request with no time that can be read, the same as /remind, the start of each answer)
UNREADABLE = [
    ("ru", "напомни мне когда-нибудь купить хлеб", "/remind когда-нибудь купить хлеб",
     "Я не понял, когда напомнить.", "Я не нашёл здесь времени."),
    ("uk", "нагадай мені колись купити хліб", "/remind колись купити хліб",
     "Я не зрозумів, коли нагадати.", "Я не знайшов тут часу."),
    ("es", "recuérdame algún día comprar pan", "/remind algún día comprar pan",
     "No entendí cuándo recordártelo.", "No encontré ninguna hora en eso."),
    ("pt", "lembre-me algum dia de comprar pão", "/remind algum dia comprar pão",
     "Não entendi quando lembrar.", "Não encontrei nenhuma hora nisso."),
    ("de", "erinnere mich irgendwann Brot zu kaufen", "/remind irgendwann Brot kaufen",
     "Ich habe nicht verstanden, wann ich dich erinnern soll.", "Darin habe ich keine Zeit gefunden."),
    ("fa", "یادم بنداز یک روزی نان بخرم", "/remind یک روزی نان بخرم",
     "نفهمیدم کی یادآوری کنم.", "در این پیام زمانی پیدا نکردم."),
]


def tomorrow_at(clock: str) -> float:
    day = (datetime.now(timezone.utc) + timedelta(days=1)).date()
    return datetime.fromisoformat(f"{day}T{clock}+00:00").timestamp()


@pytest.mark.parametrize(("lang", "request_", "rule", "what"), EVENINGS, ids=[c[0] for c in EVENINGS])
async def test_terminal_every_evening_at_9_is_21_00_in_every_language(terminal, memory, lang, request_, rule, what):
    assert await terminal.action(request_)
    (set_,) = await memory.reminders.pending(CHAT)
    assert (set_.recurrence, set_.text) == (rule, what)
    assert "21:00" in printed(terminal) and "09:00" not in printed(terminal)


@pytest.mark.parametrize(("lang", "request_", "clock", "what"), TOMORROWS, ids=[c[0] for c in TOMORROWS])
async def test_terminal_tomorrow_morning_or_evening_in_every_language(terminal, memory, lang, request_, clock, what):
    assert await terminal.action(request_)
    (set_,) = await memory.reminders.pending(CHAT)
    assert (set_.recurrence, set_.text, set_.due_at) == (None, what, tomorrow_at(clock))


@pytest.mark.parametrize(("lang", "request_", "remind", "plain_answer", "command_answer"), UNREADABLE,
                         ids=[c[0] for c in UNREADABLE])
async def test_terminal_an_unreadable_time_is_said_so_in_the_chats_language(terminal, memory, lang, request_,
                                                                             remind, plain_answer, command_answer):
    assert await terminal.action(request_)
    assert plain_answer in printed(terminal)
    await terminal.command(remind)
    assert command_answer in printed(terminal)
    assert await memory.reminders.pending(CHAT) == []


async def test_telegram_parts_of_the_day_and_unreadable_times_in_every_language(fake, config):
    """The same requests through the Telegram handlers, one chat per language."""
    config.telegram.allowed_user_ids += [ALICE + 1 + n for n in range(len(EVENINGS))]
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        for n, ((lang, evening, rule, what), (_l, tomorrow, clock, what_once), (_u, plain, remind, plain_answer,
                                                                                command_answer)) in enumerate(
                zip(EVENINGS, TOMORROWS, UNREADABLE)):
            user = ALICE + 1 + n
            reply = await converse(fake, services, user, evening)
            assert "21:00" in reply and what in reply, (lang, reply)
            reply = await converse(fake, services, user, tomorrow)
            assert what_once in reply, (lang, reply)
            pending = sorted(await services.memory.reminders.pending(user), key=lambda r: r.recurrence or "")
            assert [(r.recurrence, r.text) for r in pending] == [(None, what_once), (rule, what)], lang
            assert pending[0].due_at == tomorrow_at(clock), lang
            assert (await converse(fake, services, user, plain)).startswith(plain_answer), lang
            assert (await command(fake, user, remind))["text"].startswith(command_answer), lang


# French, Italian, Indonesian: no catalogue (the confirmation is English), but the request is read in its language
UNCATALOGUED = [
    ("rappelle-moi chaque soir à 9h de prendre mes médicaments", "prendre mes médicaments"),
    ("ricordami ogni sera alle 9 di prendere le medicine", "prendere le medicine"),
    ("ingatkan saya setiap malam jam 9 minum obat", "minum obat"),
]


async def test_terminal_and_telegram_read_every_evening_in_languages_without_a_catalogue(terminal, memory, fake,
                                                                                       config):
    for request_, what in UNCATALOGUED:
        assert await terminal.action(request_)
        assert f"every day at 21:00: {what}" in printed(terminal)
    assert sorted((r.recurrence, r.text) for r in await memory.reminders.pending(CHAT)) == sorted(
        ("daily 21:00", what) for _, what in UNCATALOGUED)
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        for request_, what in UNCATALOGUED:
            reply = await converse(fake, services, ALICE, request_)
            assert f"every day at 21:00: {what}" in reply, reply
        assert sorted((r.recurrence, r.text) for r in await services.memory.reminders.pending(ALICE)) == sorted(
            ("daily 21:00", what) for _, what in UNCATALOGUED)
