"""Issues 20 and 24: plain-language cancel, list and forget in the languages reminders are read in (Russian,
Ukrainian, Spanish, Portuguese, German, Persian), through the one layer both front ends use
(bot/reply/requests.py reads, bot/commands/requests.py carries out), confirmed in the request's language. The
terminal chat in-process and the real Telegram Application against the fake Bot API; a scripted model and the
hash embedder, as tests/test_actions.py does in English."""

from __future__ import annotations

import io
import time

import pytest
from fake_llm import ScriptedLLM, echo_memories
from telegram_helpers import bot_config, bot_running, button, command, converse

from bot.cli.chat import Terminal
from bot.config import AssistantConfig, Config, RecallConfig, Statements
from bot.i18n import activate
from bot.llm.base import GenerationSettings
from bot.reply.assistant import Assistant
from bot.reply.intent import Intent
from bot.reply.plan import plan_reply
from bot.reply.requests import Action, read_request
from memory import HashEmbedder

pytestmark = [pytest.mark.timeout(90), pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")]

ALICE = 1001
CHAT = 0

ACTIONS = [  # (text, kind, topic, language)
    ("отмени напоминание про хлеб", Action.CANCEL, "хлеб", "ru"),
    ("Пожалуйста, удали напоминание о звонке маме", Action.CANCEL, "звонке маме", "ru"),
    ("не напоминай мне про хлеб", Action.CANCEL, "хлеб", "ru"),
    ("больше не напоминай мне про хлеб", Action.CANCEL, "хлеб", "ru"),
    ("більше не нагадуй мені про хліб", Action.CANCEL, "хліб", "uk"),
    ("ya no me recuerdes lo del pan", Action.CANCEL, "pan", "es"),
    ("erinnere mich nicht mehr an das Brot", Action.CANCEL, "brot", "de"),
    ("какие у меня напоминания?", Action.LIST, "", "ru"),
    ("покажи мои напоминания", Action.LIST, "", "ru"),
    ("забудь пароль от wifi", Action.FORGET, "пароль wifi", "ru"),
    ("Забудь, что я говорил про пароль от wifi", Action.FORGET, "пароль wifi", "ru"),
    ("скасуй нагадування про хліб", Action.CANCEL, "хліб", "uk"),
    ("які в мене нагадування?", Action.LIST, "", "uk"),
    ("забудь мою адресу", Action.FORGET, "адресу", "uk"),
    ("cancela el recordatorio del pan", Action.CANCEL, "pan", "es"),
    ("no me recuerdes lo del pan", Action.CANCEL, "pan", "es"),
    ("¿Qué recordatorios tengo?", Action.LIST, "", "es"),
    ("muéstrame mis recordatorios", Action.LIST, "", "es"),
    ("olvida la contraseña del wifi, por favor", Action.FORGET, "contraseña wifi", "es"),
    ("olvida todo", Action.FORGET, "all", "es"),
    ("cancela o lembrete do pão", Action.CANCEL, "pão", "pt"),
    ("cancela o lembrete do dentista", Action.CANCEL, "dentista", "pt"),  # read as Spanish: tried in Portuguese too
    ("Quais são os meus lembretes?", Action.LIST, "", "pt"),
    ("esquece a senha do wifi", Action.FORGET, "senha wifi", "pt"),
    ("Apaga o meu endereço por favor", Action.FORGET, "endereço", "pt"),
    ("Lösche die Erinnerung an das Brot", Action.CANCEL, "brot", "de"),
    ("Welche Erinnerungen habe ich?", Action.LIST, "", "de"),
    ("zeig mir meine Erinnerungen", Action.LIST, "", "de"),
    ("vergiss meine Adresse", Action.FORGET, "adresse", "de"),
    ("یادآوری نان را لغو کن", Action.CANCEL, "نان", "fa"),
    ("چه یادآوری‌هایی دارم؟", Action.LIST, "", "fa"),
    ("رمز وای‌فای را فراموش کن", Action.FORGET, "رمز وایفای", "fa"),
]
NOT_ACTIONS = [
    "Я забыл ключи дома.", "Олег забыл ключи", "забудь об этом", "Не забудь купить молоко.",
    "Какие напоминания ты мне присылал вчера?", "Мою собаку зовут Барон.", "Я часто забываю пароль.",
    "Olvidé las llaves en la oficina.", "¿Qué me recordaste ayer?", "olvídalo", "Mi app de recordatorios falla.",
    "Esqueci as chaves no escritório.", "esquece isso", "Ich habe meine Schlüssel vergessen.", "vergiss es",
    "Die Erinnerung an den Urlaub ist schön.", "کلیدهایم را در دفتر جا گذاشتم.", "اسم سگ من بارون است.",
    "Я забула ключі вдома.", "¿Dónde trabajo?", "Vergiss nicht die Milch", "Esquece, não importa",
    "Не забудь купить хлеб", "Lista de compras: leche, pan",
]


@pytest.mark.parametrize(("text", "kind", "topic", "lang"), ACTIONS)
def test_an_action_in_another_language_is_read_as_one(text, kind, topic, lang):
    found = read_request(text)
    assert found is not None and found.kind is kind and found.language == lang, (text, found)
    assert found.topic == topic


@pytest.mark.parametrize("text", NOT_ACTIONS)
def test_a_statement_or_a_question_in_another_language_is_not_an_action(text):
    assert read_request(text) is None, text


@pytest.mark.parametrize(("text", "kind", "topic", "lang"), ACTIONS[:6])
def test_the_plan_never_notes_an_action_in_another_language(text, kind, topic, lang):
    plan = plan_reply(text, [])
    assert plan.intent is Intent.ACTION and plan.answer and not plan.answer.startswith("Noted")


# ----- the terminal chat ----------------------------------------------------------------------------------------
async def make_assistant(memory) -> Assistant:
    llm = ScriptedLLM(echo_memories)
    await llm.start()
    recall = RecallConfig(k=6, recent_turns=0, min_score=0.0, min_relative_score=0.0)
    return Assistant(memory, llm, recall=recall, assistant=AssistantConfig(system_prompt="S",
                                                                          statements=Statements.NOTE),
                     settings=GenerationSettings())


@pytest.fixture
async def terminal(tmp_path, memory):
    config = Config(base_dir=tmp_path)
    config.reminders.min_interval_seconds = 1
    terminal = Terminal(config, CHAT, "Ольга", out=io.StringIO())
    terminal.assistant = await make_assistant(memory)
    await terminal.start_reminders(memory, sweep_seconds=0)
    yield terminal
    await terminal.stop_reminders()
    activate("en")


def printed(terminal: Terminal) -> str:
    assert isinstance(terminal.out, io.StringIO)
    return terminal.out.getvalue()


def last(terminal: Terminal) -> str:
    return printed(terminal).rsplit("engram> ", 1)[1]


def answering(terminal: Terminal, *lines: str) -> None:
    typed = list(lines)

    async def ask(prompt: str) -> str | None:
        terminal.say(prompt, end="")
        return typed.pop(0) if typed else None

    terminal.ask = ask  # type: ignore[method-assign]


async def test_terminal_russian_reminders_listed_and_cancelled_in_russian(terminal, memory):
    assert await terminal.action("напомни мне через 2 минуты вынуть хлеб")
    assert await terminal.action("напомни мне завтра в 9 позвонить маме")
    assert [r.text for r in await memory.reminders.pending(CHAT)] == ["вынуть хлеб", "позвонить маме"]
    assert await terminal.action("какие у меня напоминания?")
    listing = last(terminal)
    assert listing.startswith("Напоминания:") and "вынуть хлеб" in listing and "позвонить маме" in listing
    assert await terminal.action("отмени напоминание про хлеб")
    assert "Отменено #1: вынуть хлеб" in last(terminal)
    assert [r.text for r in await memory.reminders.pending(CHAT)] == ["позвонить маме"]
    assert await terminal.action("отмени напоминание про стоматолога")
    assert "Нет напоминания" in printed(terminal) and "стоматолога" in printed(terminal)
    assert "/cancel <id>" in last(terminal)
    assert await terminal.action("не напоминай мне позвонить маме")
    assert await memory.reminders.pending(CHAT) == []
    assert await terminal.action("отмени напоминание про хлеб")
    assert last(terminal).startswith("Напоминаний нет.")
    assert terminal.assistant.llm.calls == []  # no action went to the model


async def test_terminal_a_reminder_named_in_another_case_is_cancelled_and_nothing_to_forget_reads_well(terminal,
                                                                                                memory):
    """"о хлебе", "о молоке": the reminder's words in another grammatical case, matched by their stems; "больше не
    напоминай"; a forget of nothing said in Russian that is grammatical ("ничего не говорится про «…»")."""
    assert await terminal.action("напомни мне завтра в 9 вынуть хлеб")
    assert await terminal.action("напомни мне завтра в 10 купить молоко")
    assert await terminal.action("отмени напоминание о хлебе")
    assert "Отменено #1: вынуть хлеб" in last(terminal)
    assert await terminal.action("больше не напоминай мне о молоке")
    assert "Отменено #2: купить молоко" in last(terminal)
    assert await memory.reminders.pending(CHAT) == []
    assert await terminal.action("забудь всё про подводную лодку")
    assert "ничего не говорится про «подводную лодку»" in last(terminal)


async def test_terminal_spanish_forget_asks_then_removes_and_the_password_is_not_answered(terminal, memory):
    await terminal.reply("La contraseña del wifi de casa es tulipan77.")
    answering(terminal, "y")
    assert await terminal.action("olvida la contraseña del wifi, por favor")
    out = printed(terminal)
    asked = out.rsplit("engram> ", 1)[1]
    assert asked.startswith("¿Olvidar estos 2 mensajes?") and "tulipan77" in asked  # what would go, shown first
    assert "[s/N] Olvidado: 2 mensajes borrados" in out
    assert not any("tulipan77" in m["text"] for m in await memory.messages.export(CHAT))
    await terminal.reply("¿Cuál es la contraseña del wifi de casa?")
    assert "tulipan77" not in last(terminal)
    assert await terminal.action("olvida lo que te dije sobre el submarino")
    assert "Nada en la memoria de este chat menciona «submarino»" in printed(terminal)


async def test_terminal_persian_forget_and_list(terminal, memory):
    await terminal.reply("رمز وای‌فای خانه لاله۷۷ است.")
    answering(terminal, "y")
    assert await terminal.action("رمز وای‌فای را فراموش کن")
    assert "فراموش شد" in printed(terminal).rsplit("engram> ", 1)[1]
    assert not any("لاله" in m["text"] for m in await memory.messages.export(CHAT))
    assert await terminal.action("چه یادآوری‌هایی دارم؟")
    assert last(terminal).startswith("یادآوری در انتظاری نیست.")


# ----- Telegram ------------------------------------------------------------------------------------------------
@pytest.fixture
def config(tmp_path, fake):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    config.reminders.min_interval_seconds = 1
    config.assistant.statements = Statements.NOTE
    return config


async def test_telegram_portuguese_reminders_listed_and_cancelled_in_portuguese(fake, config):
    llm = ScriptedLLM(echo_memories)
    async with bot_running(config, llm, HashEmbedder(64)) as services:
        confirm = await command(fake, ALICE, "lembra-me daqui a 2 minutos de tirar o pão do forno")
        assert button(confirm, "Cancel") or button(confirm, "Cancelar")
        pending = await services.memory.reminders.pending(ALICE)
        assert len(pending) == 1 and 110 <= pending[0].due_at - time.time() <= 121
        listing = await command(fake, ALICE, "Quais são os meus lembretes?")
        assert listing["text"].startswith("Lembretes pendentes:") and "tirar o pão do forno" in listing["text"]
        done = await command(fake, ALICE, "cancela o lembrete do pão")
        assert done["text"].startswith("Cancelado #") and "tirar o pão do forno" in done["text"]
        assert await services.memory.reminders.pending(ALICE) == []
        empty = await command(fake, ALICE, "Quais são os meus lembretes?")
        assert empty["text"].startswith("Não há lembretes pendentes.")
        assert llm.prompts == []  # no action went to the model


async def test_telegram_german_forget_asks_then_removes(fake, config):
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        await converse(fake, services, ALICE, "Meine Adresse ist Lindenstraße 12.")
        question = await command(fake, ALICE, "vergiss meine Adresse")
        assert "Lindenstraße" in question["text"]
        yes = button(question, "Ja, 2 vergessen")  # the buttons in German too
        mark = fake.mark()
        await fake.press(ALICE, question["message_id"], yes)
        await fake.wait_for(lambda c: c.method == "editMessageText" and c.ok, mark, 15)
        assert "Vergessen" in fake.messages[(ALICE, question["message_id"])]["text"]
        assert not any("Lindenstraße" in m["text"] for m in await services.memory.messages.export(ALICE))
        nothing = await command(fake, ALICE, "vergiss, was ich über das U-Boot gesagt habe")
        assert nothing["text"].startswith("Nichts im Gedächtnis dieses Chats erwähnt „boot“")


def test_an_action_the_front_end_did_not_carry_out_gets_how_to_in_the_chat_s_language():
    from bot.i18n import using

    with using("ru"):
        plan = plan_reply("отмени напоминание про хлеб", [])
    assert plan.answer == "Чтобы отменить напоминание: /reminders покажет их, /cancel <id> отменит одно."
    with using("es"):
        assert plan_reply("olvida mi dirección", []).answer.startswith("Para olvidar, usa /forget")
    assert plan_reply("cancel the bread reminder", []).answer.startswith("To cancel a reminder")
