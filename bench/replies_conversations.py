"""Two behaviours of `eval-replies` that need a whole conversation, run through the real front ends and model.

- action: a plain-language action (remind, cancel, list, forget) typed in the terminal chat AND sent to the real
  Telegram Application through the fake Bot API (tests/fake_telegram.py): it is carried out (a reminder set or
  cancelled, reminders listed, what would be forgotten shown, confirmed, gone from memory and from the answer to a
  later question), or, when it cannot be, the reply says so and how; a message that is no action (a question
  about the past, "I forgot my keys") is answered as before. Never: an action acknowledged as a statement
  ("Noted…"); a non-action taken for one.
- no-echo: facts told as a person tells them (each acknowledged and the acknowledgement stored, as in real use),
  then a question asked, and asked again later (a new session: the model's prefix cache holds the fixed prompt
  part only, as after a start): neither answer is "Noted…", the two are the same, and neither the answer's
  memories nor its citation are the assistant's own words or an earlier question. Never: an answer from its own
  echo or an earlier question. Whether the answer holds the fact (recall's accuracy, measured by `recall`) and
  whether a third ask right after the second, in the same session, says the same are reported apart: with the
  prefix cache reusing the whole earlier prompt, the default int4 model can word the same answer differently
  ("Dr. Lea Lund." / "Dr. Lund is your dentist."): the same prompt with and without a reused cache differs in
  its numbers (docs/BENCHMARKS.md).
Cases marked `held_out` were never looked at while tuning; they are reported on their own. Looked at since, so
tuned (`held_out=False`): ho-ru-nothing — its failed reply was read (issue 20's language work; the fix was the
Russian catalogue's ungrammatical "nothing to forget" sentence). The other language actions' held-out cases were
shown in the same listing of LANGUAGE_ACTION_CASES (their text, not any reply) but not tuned on; ho-ru-dog was
added then, so that Russian keeps two held-out cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import tempfile
import time
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

from bot.reply.intent import said_by_a_person
from bot.reply.requests import read_request

CONVERSATION_BEHAVIOURS = ("action", "no-echo")
NOTED = re.compile(r"^\s*(?:engram>\s*)?noted\b", re.I | re.M)
SET = "⏰ OK, I will remind you on"


@dataclass(frozen=True)
class ActionCase:
    name: str
    said: tuple[str, ...]  # typed before the probe (statements, earlier actions), oldest first
    probe: str
    action: str | None  # remind / cancel / list / forget; None: not an action, it must be answered as before
    expect: tuple[str, ...] = ()  # the reply holds one of these
    gone: str = ""  # a forget confirmed: this word is no longer in memory, nor in the answer to `ask`
    ask: str = ""
    pending: tuple[str, ...] | None = None  # the pending reminders' texts afterwards (None: not checked)
    person: str = "Ana"
    held_out: bool = False
    lang: str = "en"  # LANGUAGE_ACTION_CASES: the language the person writes in


@dataclass(frozen=True)
class EchoCase:
    name: str
    said: tuple[str, ...]  # told, each answered (acknowledged) and the reply kept
    question: str
    expect: tuple[str, ...]  # the answer holds one of these (lower-case)
    person: str = "Ana"
    held_out: bool = False


NOT_SET = ("couldn't tell when", "/remind")
NOT_FOUND = ("nothing in this chat's memory mentions", "/forget")

ACTION_CASES: tuple[ActionCase, ...] = (
    ActionCase("ac-bread", (), "Remind me in 2 minutes to take the bread out of the oven.", "remind", (SET,),
               pending=("take the bread out of the oven",)),
    ActionCase("ac-monday", (), "every Monday at 8 remind me to water the plants", "remind",
               ("then every monday",), pending=("water the plants",), person="Tom"),
    ActionCase("ac-polite", (), "Could you remind me tomorrow at 9 to call the bank?", "remind", (SET,),
               pending=("call the bank",), person="Lena"),
    ActionCase("ac-set", (), "Set a reminder for 5pm tomorrow to take the pills", "remind", (SET,),
               pending=("take the pills",), person="Raj"),
    ActionCase("ac-notime", (), "remind me to buy stamps", "remind", NOT_SET, pending=(), person="Mei"),
    ActionCase("ac-cancel", ("Remind me in 2 hours to take the bread out.", "remind me tomorrow at 9 to call Bo"),
               "cancel the bread reminder", "cancel", ("cancelled #",), pending=("call Bo",), person="Omar"),
    ActionCase("ac-stop", ("remind me on friday at 18:00 to book the table",),
               "Stop reminding me about the table", "cancel", ("cancelled #",), pending=(), person="Sara"),
    ActionCase("ac-cancel-none", (), "cancel the dentist reminder", "cancel", ("no pending reminders",),
               person="Ivan"),
    ActionCase("ac-list", ("remind me tomorrow at 10 to phone grandma",), "What reminders do I have?", "list",
               ("phone grandma",), person="Nora"),
    ActionCase("ac-list-empty", (), "show my reminders", "list", ("no pending reminders",), person="Leo"),
    ActionCase("ac-wifi", ("The wifi password at home is tulip77.",), "Please forget the wifi password I told you.",
               "forget", ("forgotten",), gone="tulip77", ask="What is the wifi password at home?", person="Zoe"),
    ActionCase("ac-about", ("My locker code is 4471.", "I like green tea."),
               "forget what I said about the locker code", "forget", ("forgotten",), gone="4471",
               ask="What is my locker code?", person="Kai"),
    ActionCase("ac-address", ("My address is 12 Elm Street.",), "delete my address", "forget", ("forgotten",),
               gone="elm", ask="What is my address?", person="Pia"),
    ActionCase("ac-nothing", ("I like green tea.",), "forget what I said about the submarine", "forget", NOT_FOUND,
               person="Bo"),
    ActionCase("np-past", ("remind me tomorrow at 9 to call Ana",), "What did you remind me about?", None,
               person="Eve"),
    ActionCase("np-keys", (), "I forgot my keys at the office.", None, person="Dan"),
    ActionCase("np-milk", (), "Don't forget the milk on the way home.", None, person="Gus"),
    ActionCase("np-asked", ("The gate code is 9911.",), "Did I tell you to forget the gate code?", None,
               person="Hana"),
    ActionCase("np-what", ("My dog is called Rex.",), "Remind me, what is my dog called?", None, person="Jo"),
    ActionCase("np-app", (), "My reminder app keeps crashing.", None, person="Kim"),
    # held out: never looked at while tuning
    ActionCase("ho-pills", (), "Please remind me in 3 hours to take my vitamins.", "remind", (SET,),
               pending=("take my vitamins",), person="Lu", held_out=True),
    ActionCase("ho-phone", ("My phone number is 555-0199.",), "Could you erase my phone number please?", "forget",
               ("forgotten",), gone="0199", ask="What is my phone number?", person="Max", held_out=True),
    ActionCase("ho-any", ("remind me on saturday at 11 to wash the car",), "do I have any reminders?", "list",
               ("wash the car",), person="Ned", held_out=True),
    ActionCase("ho-cancel", ("remind me tomorrow at 7 to feed the cat",), "cancel my reminder to feed the cat",
               "cancel", ("cancelled #",), pending=(), person="Oli", held_out=True),
    ActionCase("ho-forgetful", (), "I keep forgetting where I park.", None, person="Quin", held_out=True),
    ActionCase("ho-sent", (), "What reminders did you send me yesterday?", None, person="Rae", held_out=True),
)

# The same actions in the languages reminders are read in (issue 20): cancel, list and forget, each confirmed in
# the person's language (`expect`: the catalogue's words), and a look-alike that is no action. Two of the five of
# each language are held out (written with the rest, before the first run; not tuned on; see the docstring).
def _lang_actions(lang: str, person: str, cancel: tuple[tuple[str, str], str, str, str],
                  listing: tuple[str, str, str], forget: tuple[str, str, str, str, str],
                  held: tuple[ActionCase, ...]) -> tuple[ActionCase, ...]:
    """cancel: (the two reminders asked for, the cancel, a word of its confirmation, the reminder left);
    listing: (a reminder asked for, the question, a word of the listing); forget: (a fact, the request, a word of
    the confirmation, what goes, the question asked after)."""
    (first, second), probe, done, left = cancel
    return (
        ActionCase(f"ac-{lang}-cancel", (first, second), probe, "cancel", (done,), pending=(left,), person=person,
                   lang=lang),
        ActionCase(f"ac-{lang}-list", (listing[0],), listing[1], "list", (listing[2],), person=person, lang=lang),
        ActionCase(f"ac-{lang}-forget", (forget[0],), forget[1], "forget", (forget[2],), gone=forget[3],
                   ask=forget[4], person=person, lang=lang),
        *held,
    )


LANGUAGE_ACTION_CASES: tuple[ActionCase, ...] = (
    *_lang_actions("ru", "Ольга",
                   (("напомни мне через 2 часа вынуть хлеб", "напомни мне завтра в 9 позвонить Боре"),
                    "отмени напоминание про хлеб", "отменено #", "позвонить Боре"),
                   ("напомни мне завтра в 10 позвонить бабушке", "какие у меня напоминания?", "позвонить бабушке"),
                   ("Пароль от wifi дома — тюльпан77.", "забудь пароль от wifi", "забыто", "тюльпан77",
                    "Какой пароль от wifi дома?"),
                   (ActionCase("ho-ru-nothing", ("Я люблю зелёный чай.",), "забудь, что я говорил про подводную лодку",
                               "forget", ("ничего не говорится",), person="Ольга", held_out=False, lang="ru"),
                    ActionCase("ho-ru-keys", (), "Я забыл ключи на работе.", None, person="Ольга", held_out=True,
                               lang="ru"),
                    # written after ho-ru-nothing was tuned on, before any run of it: a topic in another case
                    # than the memory's words ("мою собаку" / "Мою собаку зовут", "собака")
                    ActionCase("ho-ru-dog", ("Моя собака боится грозы, её зовут Жучка.",), "забудь всё про мою собаку",
                               "forget", ("забыто",), gone="жучка", ask="Как зовут мою собаку?", person="Ольга",
                               held_out=True, lang="ru"))),
    *_lang_actions("uk", "Тарас",
                   (("нагадай мені через 2 години вийняти хліб", "нагадай мені завтра о 9 подзвонити Богдану"),
                    "скасуй нагадування про хліб", "скасовано #", "подзвонити Богдану"),
                   ("нагадай мені завтра о 10 полити квіти", "які в мене нагадування?", "полити квіти"),
                   ("Код від сейфа 4471.", "забудь код від сейфа", "забуто", "4471", "Який код від сейфа?"),
                   (ActionCase("ho-uk-empty", (), "покажи мої нагадування", "list", ("нагадувань немає",),
                               person="Тарас", held_out=True, lang="uk"),
                    ActionCase("ho-uk-umbrella", (), "Я забула парасольку в автобусі.", None, person="Тарас",
                               held_out=True, lang="uk"))),
    *_lang_actions("es", "Lucía",
                   (("recuérdame en 2 horas sacar el pan", "recuérdame mañana a las 9 llamar a Bea"),
                    "cancela el recordatorio del pan", "cancelado #", "llamar a Bea"),
                   ("recuérdame mañana a las 10 llamar a la abuela", "¿Qué recordatorios tengo?",
                    "llamar a la abuela"),
                   ("La contraseña del wifi de casa es tulipan77.", "olvida la contraseña del wifi", "olvidado",
                    "tulipan77", "¿Cuál es la contraseña del wifi de casa?"),
                   (ActionCase("ho-es-address", ("Mi dirección es Calle Mayor 12.",), "borra mi dirección, por favor",
                               "forget", ("olvidado",), gone="mayor 12", ask="¿Cuál es mi dirección?",
                               person="Lucía", held_out=True, lang="es"),
                    ActionCase("ho-es-keys", (), "Olvidé las llaves en la oficina.", None, person="Lucía",
                               held_out=True, lang="es"))),
    *_lang_actions("pt", "João",
                   (("lembra-me daqui a 2 horas de tirar o pão", "lembra-me amanhã às 9 de ligar ao Rui"),
                    "cancela o lembrete do pão", "cancelado #", "ligar ao Rui"),
                   ("lembra-me amanhã às 10 de regar as plantas", "Quais são os meus lembretes?", "regar as plantas"),
                   ("A senha do wifi de casa é girassol42.", "esquece a senha do wifi", "esquecido", "girassol42",
                    "Qual é a senha do wifi de casa?"),
                   (ActionCase("ho-pt-none", (), "cancela o lembrete do dentista", "cancel",
                               ("não há lembretes pendentes",), person="João", held_out=True, lang="pt"),
                    ActionCase("ho-pt-umbrella", (), "Esqueci o guarda-chuva no autocarro.", None, person="João",
                               held_out=True, lang="pt"))),
    *_lang_actions("de", "Jonas",
                   (("erinnere mich in 2 Stunden das Brot rauszunehmen", "erinnere mich morgen um 9 Jonas anzurufen"),
                    "Lösche die Erinnerung an das Brot", "abgebrochen", "Jonas anzurufen"),
                   ("erinnere mich morgen um 10 die Blumen zu gießen", "Welche Erinnerungen habe ich?", "blumen"),
                   ("Meine Adresse ist Lindenstraße 12.", "vergiss meine Adresse", "vergessen", "lindenstraße",
                    "Wie ist meine Adresse?"),
                   (ActionCase("ho-de-nothing", ("Ich trinke gern grünen Tee.",),
                               "vergiss, was ich über das U-Boot gesagt habe", "forget", ("nichts im gedächtnis",),
                               person="Jonas", held_out=True, lang="de"),
                    ActionCase("ho-de-keys", (), "Ich habe meine Schlüssel im Büro vergessen.", None, person="Jonas",
                               held_out=True, lang="de"))),
    *_lang_actions("fa", "مریم",
                   (("یادم بنداز ۲ ساعت دیگر نان را بیرون بیاورم", "یادم بنداز فردا ساعت ۹ به رضا زنگ بزنم"),
                    "یادآوری نان را لغو کن", "لغو شد", "به رضا زنگ بزنم"),
                   ("یادم بنداز فردا ساعت ۱۰ گلدان‌ها را آب بدهم", "چه یادآوری‌هایی دارم؟", "گلدان"),
                   ("رمز وای‌فای خانه لاله۷۷ است.", "رمز وای‌فای را فراموش کن", "فراموش شد", "لاله",
                    "رمز وای‌فای خانه چیست؟"),
                   (ActionCase("ho-fa-empty", (), "یادآوری‌هایم را نشان بده", "list", ("یادآوری در انتظاری نیست",),
                               person="مریم", held_out=True, lang="fa"),
                    ActionCase("ho-fa-keys", (), "کلیدهایم را در دفتر جا گذاشتم.", None, person="مریم",
                               held_out=True, lang="fa"))),
)

ECHO_CASES: tuple[EchoCase, ...] = (
    EchoCase("ne-sister", ("My sister Ana lives in Lisbon.",), "Where does my sister live?", ("lisbon",), "Zoe"),
    EchoCase("ne-dog", ("My dog is called Rex.",), "What is my dog called?", ("rex",), "Tom"),
    EchoCase("ne-car", ("I bought a new car, a blue Volvo.",), "What car did I buy?", ("volvo",), "Lena"),
    EchoCase("ne-teacher", ("My son's teacher is Mrs Patel.",), "Who is my son's teacher?", ("patel",), "Omar"),
    EchoCase("ne-allergy", ("I'm allergic to peanuts.", "I play tennis on Sundays."), "What am I allergic to?",
             ("peanut",), "Raj"),
    EchoCase("ne-band", ("My favourite band is Radiohead.",), "Which band is my favourite?", ("radiohead",), "Ivan"),
    EchoCase("ne-cello", ("The cello teacher is Dr Ingrid Novak.", "Good luck with the cello!"),
             "Who is the cello teacher?", ("novak",), "Mei"),
    EchoCase("ne-leo", ("Leo is 7 years old.",), "How old is Leo?", ("7", "seven"), "Sara"),
    EchoCase("ne-wifi", ("The wifi password at the cabin is pinecone42.",), "What's the wifi password at the cabin?",
             ("pinecone42",), "Nora"),
    EchoCase("ne-flight", ("My flight to Oslo leaves at 7:40.",), "When does my flight leave?", ("7:40",), "Kai"),
    EchoCase("ne-platform", ("My train leaves from platform 9.",), "Which platform does my train leave from?",
             ("9", "nine"), "Pia"),
    EchoCase("ne-niece", ("My niece is called Asha.",), "What is my niece called?", ("asha",), "Bo"),
    EchoCase("ne-fruit", ("My favourite fruit is mango.",), "What is my favourite fruit?", ("mango",), "Eve"),
    EchoCase("ne-park", ("I parked on level 3.",), "Where did I park?", ("3", "three"), "Dan"),
    EchoCase("ne-room", ("The meeting is in room 4B.",), "Where is the meeting?", ("4b",), "Gus"),
    EchoCase("ne-keys", ("I left my keys at Olga's.",), "Where did I leave my keys?", ("olga",), "Hana"),
    EchoCase("ne-dentist", ("My dentist is Dr Lund.",), "Who is my dentist?", ("lund",), "Jo"),
    EchoCase("ne-yoga", ("My yoga class is on Thursday evening.",), "When is my yoga class?", ("thursday",), "Kim"),
    EchoCase("ne-school", ("Mia starts school on September 3rd.",), "When does Mia start school?",
             ("september", "3"), "Lu"),
    EchoCase("ne-plants", ("I bought three new plants for the balcony.",), "How many plants did I buy?",
             ("three", "3"), "Max"),
    # held out: never looked at while tuning
    EchoCase("ho-brother", ("My brother Pavel is a pilot.",), "What does my brother do?", ("pilot",), "Ned",
             held_out=True),
    EchoCase("ho-bakery", ("I start a new job at the bakery on Monday.",), "Where is my new job?", ("bakery",), "Oli",
             held_out=True),
    EchoCase("ho-kitten", ("We adopted a kitten called Mochi.",), "What is our kitten called?", ("mochi",), "Quin",
             held_out=True),
    EchoCase("ho-nurse", ("I work as a nurse at St. Mary's.",), "Where do I work?", ("mary",), "Rae",
             held_out=True),
    EchoCase("ho-violin", ("My daughter plays the violin.",), "Which instrument does my daughter play?",
             ("violin",), "Sol", held_out=True),
)


# ----- checks ------------------------------------------------------------------------------------------------------
def action_checks(case: ActionCase, reply: str, pending: list[str], memory_texts: list[str], answer: str
                  ) -> dict[str, bool]:
    low = reply.lower()
    out = {"not empty": bool(reply.strip()), "never acknowledged as a statement": not (
        case.action and (NOTED.search(reply) or _acknowledged(reply, case.lang)))}
    if case.action is None:
        out["not taken for an action"] = read_request(case.probe) is None and SET.lower() not in low and (
            "forget this" not in low and "forget these" not in low and "pending reminders" not in low)
    if case.expect:
        out["expected"] = any(e.lower() in low for e in case.expect)
    if case.pending is not None:
        out["reminders"] = sorted(p.lower() for p in pending) == sorted(p.lower() for p in case.pending)
    if case.gone:
        out["gone from memory"] = not any(case.gone in t.lower() for t in memory_texts)
        out["not answered after"] = bool(answer.strip()) and case.gone not in answer.lower()
    return out


def _acknowledged(reply: str, lang: str) -> bool:
    """A line of the reply opens with another language's acknowledgement of a statement, as NOTED for English (a
    forget's preview quotes the stored acknowledgement after a date and a name: that is no acknowledgement)."""
    lines = [re.sub(r"^\s*(?:engram>\s*)?[\u2066-\u2069]*", "", line).lower() for line in reply.splitlines()]
    return any(line.startswith(a) for line in lines for a in _acknowledgements(lang))


def _acknowledgements(lang: str) -> tuple[str, ...]:
    """How a statement is acknowledged in another language ("записал:", "anotado:"), lower case."""
    if lang == "en":
        return ()
    from bot import i18n
    from bot.reply.plan import NOTED as NOTED_TEXT

    with i18n.using(lang):
        return (i18n._("Noted: “{statement}”.").split("{statement}")[0].strip().lower(),
                i18n._(NOTED_TEXT).lower())


INFORMATIONAL = ("holds the fact", "same again in the same session")  # reported, not part of a pass


def echo_checks(case: EchoCase, first, second, third=None) -> dict[str, bool]:
    """`first`, `second`: the Replies to the same question, each asked as the first of a session; `third`: asked
    again right after the second, in the same session."""
    def own_words_or_question(reply) -> bool:
        cited = [reply.citation] if reply.citation is not None else []
        return any(not said_by_a_person(h.message) for h in [*reply.recalled, *cited])

    texts = (first.text.lower(), second.text.lower())
    return {
        "not empty": all(t.strip() for t in texts),
        "no answer from its own echo or an earlier question": not (
            own_words_or_question(first) or own_words_or_question(second)),
        "not noted": not any(t.startswith("noted") for t in texts),
        "same answer twice": texts[0] == texts[1],
        "cites the person": all(r.citation is None or r.citation.message.role == "user" for r in (first, second)),
        "holds the fact": all(any(e in t for e in case.expect) for t in texts),
        "same again in the same session": third is None or third.text.lower() == texts[1],
    }


def row(name: str, behaviour: str, held_out: bool, probe: str, reply: str, result: dict[str, bool],
        seconds: float, **extra) -> dict:
    passed = all(v for k, v in result.items() if k not in INFORMATIONAL)
    return {"name": name, "behaviour": behaviour, "held_out": held_out, "probe": probe, "reply": reply,
            "words": len(reply.split()), "passed": passed, "checks": result,
            "seconds": round(seconds, 2), **extra}


# ----- no-echo: through the assistant, as every front end has it answered --------------------------------------
async def run_echo(assistant, cases: tuple[EchoCase, ...], progress, first_chat: int = 5000) -> list[dict]:
    from memory import Message

    rows = []
    for n, case in enumerate(cases):
        chat_id = first_chat + n
        began = time.perf_counter()
        for text in case.said:
            await assistant.reply_text(Message(chat_id, await assistant.next_message_id(chat_id), text,
                                               sender_id=100 + n, sender_name=case.person))
        replies = []
        for new_session in (True, True, False):  # asked, asked again later, asked once more right away
            if new_session:
                await assistant.warm_up()  # as at a start: the prefix cache holds the fixed prompt part only
            replies.append(await assistant.reply_text(Message(
                chat_id, await assistant.next_message_id(chat_id), case.question, sender_id=100 + n,
                sender_name=case.person)))
        first, second, third = replies
        result = echo_checks(case, first, second, third)
        rows.append(row(case.name, "no-echo", case.held_out, case.question, f"{first.text} | {second.text}", result,
                        time.perf_counter() - began))
        progress(f"[no-echo {n + 1}/{len(cases)}] {'pass' if rows[-1]['passed'] else 'FAIL'} {case.name}: "
                 f"{first.text[:60]!r} | {second.text[:60]!r}")
    return rows


# ----- action: the terminal chat ------------------------------------------------------------------------------
async def run_actions_terminal(config, assistant, cases: tuple[ActionCase, ...], progress,
                               first_chat: int = 7000) -> list[dict]:
    from bot.cli.chat import Terminal

    rows = []
    for n, case in enumerate(cases):
        chat_id = first_chat + n
        out = io.StringIO()
        terminal = Terminal(config, chat_id, case.person, out=out)
        terminal.assistant = assistant

        async def yes(prompt: str, terminal=terminal) -> str:
            terminal.say(prompt + "y")
            return "y"

        terminal.ask = yes  # type: ignore[method-assign]  # every y/n question answered yes
        await terminal.start_reminders(assistant.memory, sweep_seconds=0)
        began = time.perf_counter()
        try:
            for text in case.said:
                await terminal.line(text)
            mark = len(out.getvalue())
            await terminal.line(case.probe)
            reply = out.getvalue()[mark:].strip()
            answer = ""
            if case.ask:
                mark = len(out.getvalue())
                await terminal.line(case.ask)
                answer = out.getvalue()[mark:].strip()
            pending = [r.text for r in await assistant.memory.reminders.pending(chat_id)]
            texts = [m["text"] for m in await assistant.memory.messages.export(chat_id)]
        finally:
            await terminal.stop_reminders()
        result = action_checks(case, reply, pending, texts, answer)
        rows.append(row(case.name, "action", case.held_out, case.probe, reply, result, time.perf_counter() - began,
                        front_end="terminal", answer=answer, lang=case.lang))
        progress(f"[action terminal {n + 1}/{len(cases)}] {'pass' if rows[-1]['passed'] else 'FAIL'} "
                 f"{case.name}: {reply[:80]!r}")
    return rows


# ----- action: Telegram, the real Application against the fake Bot API -----------------------------------------
async def run_actions_telegram(config, llm, embedder, cases: tuple[ActionCase, ...], progress,
                               first_user: int = 9000) -> list[dict]:
    from telegram import Update

    from bench.load.bots import fake_telegram
    from handlers.app import build_application
    from handlers.context import services_of

    rows: list[dict] = []
    users = {case.name: first_user + n for n, case in enumerate(cases)}
    async with fake_telegram().FakeTelegram() as fake:
        config = deepcopy(config)
        config.telegram.token = fake.token
        config.telegram.base_url = fake.base_url
        config.telegram.edit_interval = 0.05
        config.telegram.allowed_user_ids = list(users.values())
        config.housekeeping.backup_dir = ""
        config.housekeeping.checkpoint_minutes = 0
        application = build_application(config, llm=llm, embedder=embedder)
        services = services_of(application)
        await application.initialize()
        try:
            await application.post_init(application)  # type: ignore[misc]
            await application.updater.start_polling(poll_interval=0.0, timeout=2,  # type: ignore[union-attr]
                                                    allowed_updates=Update.ALL_TYPES)
            await application.start()
            for n, case in enumerate(cases):
                user = users[case.name]
                began = time.perf_counter()
                for text in case.said:
                    await _say(fake, services, user, case.person, text)
                reply, shown = await _say(fake, services, user, case.person, case.probe)
                for message in shown:  # a forget asks first: press its "Yes" (in the chat's language)
                    data = _forget_yes(message)
                    if data:
                        mark = fake.mark()
                        await fake.press(user, message["message_id"], data)
                        await fake.wait_for(lambda c: c.method == "editMessageText" and c.ok, mark, 30)
                        reply += "\n" + fake.messages[(user, message["message_id"])]["text"]
                answer = (await _say(fake, services, user, case.person, case.ask))[0] if case.ask else ""
                pending = [r.text for r in await services.started.memory.reminders.pending(user)]
                texts = [m["text"] for m in await services.started.memory.messages.export(user)]
                result = action_checks(case, reply, pending, texts, answer)
                rows.append(row(case.name, "action", case.held_out, case.probe, reply, result,
                                time.perf_counter() - began, front_end="telegram", answer=answer, lang=case.lang))
                progress(f"[action telegram {n + 1}/{len(cases)}] {'pass' if rows[-1]['passed'] else 'FAIL'} "
                         f"{case.name}: {reply[:80]!r}")
        finally:
            with contextlib.suppress(Exception):
                if application.updater and application.updater.running:
                    await application.updater.stop()
                if application.running:
                    await application.stop()
                    await application.post_stop(application)  # type: ignore[misc]
            await application.shutdown()
            await application.post_shutdown(application)  # type: ignore[misc]
    return rows


async def _say(fake, services, user: int, name: str, text: str, timeout: float = 120.0) -> tuple[str, list[dict]]:
    """A person sends a text; the bot's whole answer (every message it sent for it) once it is done."""
    mark = fake.mark()
    await fake.text(user, text, name=name)
    first = await fake.wait_for_method("sendMessage", user, mark, timeout)
    await services.settle(timeout)
    await asyncio.sleep(0.1)
    shown = [m for m in fake.bot_messages(user) if m["message_id"] >= first.result["message_id"]]
    return "\n".join(m.get("text", "") for m in shown), shown


def _forget_yes(message: dict) -> str | None:
    """The callback data of a forget's confirming button, whatever language its label is in."""
    for line in (message.get("reply_markup") or {}).get("inline_keyboard", []):
        for b in line:
            if b.get("callback_data", "").startswith("forget:") and b["callback_data"].endswith(":yes"):
                return b["callback_data"]
    return None


async def run_conversations(config, behaviours: tuple[str, ...], progress,
                            action_cases: tuple[ActionCase, ...] = ACTION_CASES,
                            echo_cases: tuple[EchoCase, ...] = ECHO_CASES) -> list[dict]:
    """The conversation behaviours asked for, each on a fresh database; the Telegram pass loads the models again
    inside the Application, as `./engram telegram` would. `action_cases`: LANGUAGE_ACTION_CASES for the
    actions in other languages."""
    from bot.llm import build_llm
    from bot.services import build_assistant, build_embedder
    from memory import Memory

    rows: list[dict] = []
    embedder = build_embedder(config)
    with tempfile.TemporaryDirectory(prefix="engram-conversations-") as tmp:
        config = deepcopy(config)
        config.reminders.min_interval_seconds = 1
        memory = Memory(Path(tmp) / "terminal.db", embedder)
        llm = build_llm(config)
        await memory.start()
        await llm.start()
        try:
            assistant = build_assistant(config, memory, llm)
            if "no-echo" in behaviours:
                rows += await run_echo(assistant, echo_cases, progress)
            if "action" in behaviours:
                rows += await run_actions_terminal(config, assistant, action_cases, progress)
        finally:
            await llm.stop()
            await memory.stop()
        if "action" in behaviours:
            config.storage.path = str(Path(tmp) / "telegram.db")
            rows += await run_actions_telegram(config, build_llm(config), embedder, action_cases, progress)
    return rows


def never_rates(rows: list[dict]) -> dict[str, float | None]:
    """The two properties that must hold every time."""
    def share(values: list[bool]) -> float | None:
        return sum(values) / len(values) if values else None

    actions = [r for r in rows if r["behaviour"] == "action"]
    echoes = [r for r in rows if r["behaviour"] == "no-echo"]
    return {
        "action never acknowledged as a statement": share(
            [r["checks"]["never acknowledged as a statement"] for r in actions]),
        "no non-action taken for an action": share(
            [r["checks"]["not taken for an action"] for r in actions if "not taken for an action" in r["checks"]]),
        "no answer from own echo or a question": share(
            [r["checks"]["no answer from its own echo or an earlier question"] for r in echoes]),
        "no-echo answer holds the fact (recall)": share([r["checks"]["holds the fact"] for r in echoes]),
        "no-echo same again in one session": share(
            [r["checks"]["same again in the same session"] for r in echoes]),
    }
