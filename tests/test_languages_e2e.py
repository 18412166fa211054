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
