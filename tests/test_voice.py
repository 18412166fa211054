"""Voice messages and pictures through the real bot and the fake Bot API, with the real speech model
(faster-whisper base, loaded once a session) on real OGG/Opus voice notes spoken by espeak-ng, and Tesseract."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fake_llm import ScriptedLLM, echo_memories
from telegram_helpers import bot_config, bot_running, command, until_stored

from bench.speech_clips import picture, silence, soundless_video, speak
from memory import HashEmbedder

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::DeprecationWarning:telegram")]

ALICE, BOB = 1001, 1002
GROUP = -100500
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "models"


@pytest.fixture(scope="session")
def speech():
    """The real speech model and OCR (bot/media), the model loaded once for every test of the session."""
    from bot.config import Config
    from bot.media import build_media

    config = Config()
    config.llm.cache_dir = str(CACHE)
    media = build_media(config)
    assert media.speech is not None
    media.speech.load()
    yield media
    media.stop()


@pytest.fixture
async def voice_bot(tmp_path, fake, speech):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE, BOB], allowed_chat_ids=[GROUP])
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64), speech=speech) as services:
        yield services


async def until_made(services, chat_id: int, message_id: int, timeout: float = 60.0):
    """The stored message once its text is made (transcribed, read, or given up on)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        stored = await services.memory.messages.get(chat_id, message_id)
        if stored is not None and (stored.meta or {}).get("media") in ("done", "failed"):
            return stored
        await asyncio.sleep(0.05)
    raise AssertionError(f"message {message_id} was never transcribed")


async def send_voice(fake, tmp_path, chat_id: int, said: str, **kw) -> dict:
    clip = speak(said, tmp_path / f"clip{len(fake.files)}.ogg")
    return await fake.voice(chat_id, clip.read_bytes(), duration=4, **kw)


async def test_a_private_voice_message_is_stored_transcribed_answered_searchable_and_exported(fake, voice_bot,
                                                                                               tmp_path):
    voice = await send_voice(fake, tmp_path, ALICE, "The spare key is under the blue flower pot.")
    pending = await until_stored(voice_bot, ALICE, voice["message_id"])
    assert pending.kind == "voice"  # stored at once, before its transcript
    stored = await until_made(voice_bot, ALICE, voice["message_id"])
    assert "spare key is under the blue flower pot" in stored.text.lower()
    assert stored.meta["media"] == "done" and stored.meta["language"] == "en" and stored.meta["duration"] > 1
    await voice_bot.settle(60)
    shown = [m["text"] for m in fake.bot_messages(ALICE)]
    assert shown[0].startswith("🎙 ") and "flower pot" in shown[0]  # the transcript, for the sender to check
    # answered through the assistant as a typed message is: the scripted model repeats what it was asked
    answers = [m for m in await voice_bot.memory.messages.export(ALICE) if m["role"] == "assistant"]
    assert len(answers) == 1 and answers[0]["reply_to"] == voice["message_id"]
    assert "You said: " in answers[0]["text"] and "flower pot" in answers[0]["text"].lower()
    found = await command(fake, ALICE, "/search flower pot")
    assert "flower pot" in found["text"].lower() and "voice message" in found["text"]
    await command(fake, ALICE, "/export")
    exported = json.loads(fake.documents[-1]["content"].decode("utf-8"))["messages"]
    (mine,) = [m for m in exported if m["message_id"] == voice["message_id"]]
    assert mine["text"] == stored.text and mine["meta"]["kind"] == "voice"


async def test_a_group_voice_note_is_stored_but_answered_only_when_it_names_the_bot_or_replies_to_it(
        fake, voice_bot, tmp_path):
    chatter = await send_voice(fake, tmp_path, GROUP, "Bob will bring a chocolate cake to the party on Saturday.",
                               user_id=BOB)
    stored = await until_made(voice_bot, GROUP, chatter["message_id"])
    assert "chocolate cake" in stored.text.lower()
    await voice_bot.settle(30)
    assert fake.calls_of("sendMessage", GROUP) == []  # stored, not answered
    named = await send_voice(fake, tmp_path, GROUP, "Engram, who is bringing the chocolate cake?", user_id=ALICE)
    await until_made(voice_bot, GROUP, named["message_id"])
    await voice_bot.settle(30)
    answers = [m for m in fake.bot_messages(GROUP) if not m["text"].startswith("🎙")]
    assert len(answers) == 1 and "cake" in answers[0]["text"].lower()
    replied = await send_voice(fake, tmp_path, GROUP, "And what time does the party start?", user_id=ALICE,
                               reply_to=answers[0]["message_id"])
    await until_made(voice_bot, GROUP, replied["message_id"])
    await voice_bot.settle(30)
    answers = [m for m in fake.bot_messages(GROUP) if not m["text"].startswith("🎙")]
    assert len(answers) == 2 and "party start" in answers[1]["text"].lower()


async def test_a_video_note_and_an_mp3_audio_file_are_transcribed_too(fake, voice_bot, tmp_path):
    note = speak("The meeting moved to the small room next to the kitchen.", tmp_path / "note.mp4")
    sent = await fake.voice(ALICE, note.read_bytes(), duration=3, kind="video_note")
    stored = await until_made(voice_bot, ALICE, sent["message_id"])
    assert stored.kind == "video_note" and "meeting moved to the small room next to the kitchen" in stored.text.lower()
    song = speak("Remember to water the tomato plants.", tmp_path / "memo.mp3")
    sent = await fake.voice(ALICE, song.read_bytes(), duration=3, kind="audio", mime_type="audio/mpeg",
                            file_name="memo.mp3", caption="garden memo")
    stored = await until_made(voice_bot, ALICE, sent["message_id"])
    assert stored.kind == "audio" and stored.text.startswith("garden memo\n")  # its caption, then what was said
    assert "tomato plants" in stored.text.lower()
    await voice_bot.settle(60)


def test_citations_and_search_results_name_a_voice_message():
    from bot.commands.views import hit_entry
    from bot.reply.citation import citation_text
    from bot.text import PLAIN
    from memory import Hit, Message

    said = Message(chat_id=1, message_id=5, text="The spare key is under the pot.", sender_name="Ana",
                   created_at=1796600000, meta={"kind": "voice", "media": "done"})
    assert citation_text(said, PLAIN) == "— 2026-12-06, Ana (voice message): “The spare key is under the pot.”"
    assert "· Ana (voice message) ·" in hit_entry(1, Hit(said, 0.9, similarity=0.9), PLAIN)


async def test_a_photo_of_text_is_found_by_search_for_a_word_inside_it(fake, voice_bot):
    assert voice_bot.media is not None and voice_bot.media.ocr is not None, "tesseract-ocr is not installed"
    png = picture(["Boarding pass", "Flight LX1284 to Zurich", "Gate B17  Seat 14C"])
    photo = await fake.picture(ALICE, png)
    stored = await until_made(voice_bot, ALICE, photo["message_id"])
    assert "zurich" in stored.text.lower() and stored.kind == "photo"
    found = await command(fake, ALICE, "/search Zurich")
    assert "Zurich" in found["text"] and "picture" in found["text"]


async def test_bad_recordings_get_one_line_and_stay_stored(fake, voice_bot, tmp_path):
    cases = [
        (b"OggS\x00 this is not really an ogg file" * 50, 5, {}, "damaged"),
        (silence(tmp_path / "quiet.ogg", 3).read_bytes(), 3, {}, "no speech"),
        (b"x" * 100, 3 * 3600, {}, "too long"),
        (b"x" * 100, 60, {"file_size": 50 * 1024 * 1024}, "too big"),
        (soundless_video(tmp_path / "mute.mp4").read_bytes(), 2, {"kind": "video_note"}, "no sound"),
    ]
    for content, seconds, extra, reason in cases:
        mark = fake.mark()
        sent = await fake.voice(ALICE, content, duration=seconds, **extra)
        stored = await until_made(voice_bot, ALICE, sent["message_id"])
        assert stored.meta["media"] == "failed" and "not transcribed" in stored.text and reason in stored.text
        assert stored.kind == extra.get("kind", "voice")
        said = await fake.wait_for_method("sendMessage", ALICE, mark, 30)
        line = said.result["text"]
        assert "\n" not in line and "could not transcribe" in line and reason in line, line
    mark = fake.mark()
    not_a_picture = await fake.document(ALICE, b"GIF89a but then nothing", file_name="receipt.png",
                                        caption="the receipt", mime_type="image/png")
    stored = await until_made(voice_bot, ALICE, not_a_picture["message_id"])
    assert stored.text == "the receipt" and stored.meta["media"] == "failed"
    said = await fake.wait_for_method("sendMessage", ALICE, mark, 30)
    assert said.result["text"] == "I kept your picture but could not read it: the file is not a picture I can read."


async def test_telegram_failing_while_the_file_is_fetched_leaves_the_voice_message_stored_not_pending(
        fake, voice_bot, tmp_path):
    """A network error no check foresaw (getFile answering 500) is kept as "not transcribed" with a one-line
    answer, not left "transcribing…" for good (its update is handled)."""
    fake.fail("getFile", status=500, description="Internal Server Error", times=5)
    mark = fake.mark()
    sent = await send_voice(fake, tmp_path, ALICE, "Water the plants on Sunday.")
    stored = await until_made(voice_bot, ALICE, sent["message_id"])
    assert stored.meta["media"] == "failed" and "not transcribed" in stored.text, stored.text
    said = await fake.wait_for_method("sendMessage", ALICE, mark, 30)
    assert "\n" not in said.result["text"] and "send it again" in said.result["text"], said.result["text"]


LAUNCHER = """
    import logging, sys
    sys.path[:0] = [{repo!r}, {tests!r}]
    from fake_llm import ScriptedLLM
    from telegram import Update

    from bot.config import load_config
    from handlers.app import build_application
    from memory import HashEmbedder

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = build_application(load_config(sys.argv[1]), llm=ScriptedLLM("Noted, I heard you."),
                                     embedder=HashEmbedder(64))
    application.run_polling(allowed_updates=Update.ALL_TYPES, timeout=2)
"""

LONG_SPEECH = ("The plumber said he would come back on Friday morning to replace the kitchen tap. "
               "He needs the old receipt from the hardware store, so keep it in the drawer next to the oven. "
               "The water must stay off under the sink until then, and the bill will be about ninety euros.")


async def test_killed_mid_transcription_the_voice_message_is_there_after_a_restart_transcribed_once(fake, tmp_path):
    import signal
    import sqlite3
    import subprocess
    import sys
    import textwrap
    import time

    repo = Path(__file__).resolve().parents[1]
    script = tmp_path / "launch_bot.py"
    script.write_text(textwrap.dedent(LAUNCHER.format(repo=str(repo), tests=str(repo / "tests"))))
    database = tmp_path / "engram.db"
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({
        "storage": {"path": str(database)},
        "llm": {"cache_dir": str(CACHE)},
        "telegram": {"token": fake.token, "base_url": fake.base_url, "allowed_user_ids": [ALICE],
                     "edit_interval": 0.05},
        "housekeeping": {"backup_dir": "", "checkpoint_minutes": 0},
        "media": {"ocr": False},
    }))
    log_path = tmp_path / "bot.log"

    def start() -> subprocess.Popen:
        with open(log_path, "ab") as log:
            return subprocess.Popen([sys.executable, str(script), str(config)], stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, cwd=repo)

    async def until_logged(line: str, count: int = 1, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if log_path.exists() and log_path.read_text(errors="replace").count(line) >= count:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{line!r} never logged {count} times:\n{log_path.read_text(errors='replace')[-3000:]}")

    def stored() -> list[tuple[str, dict]]:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            rows = conn.execute("SELECT role, text, meta FROM messages ORDER BY id").fetchall()
        return [(role + ": " + text, json.loads(meta) if meta else {}) for role, text, meta in rows]

    clip = speak(LONG_SPEECH, tmp_path / "long.ogg")
    bot = start()
    try:
        await until_logged("Engram is running")
        voice = await fake.voice(ALICE, clip.read_bytes(), duration=25)
        await until_logged("transcribing voice")
        await until_logged("speech model base loaded")
        await asyncio.sleep(0.5)  # at work on the first piece
        bot.send_signal(signal.SIGKILL)
        bot.wait(10)
        assert "transcribed voice" not in log_path.read_text(errors="replace"), "it finished before the kill"
        (pending,) = stored()
        assert pending[1]["media"] == "pending" and "transcribing" in pending[0]

        bot = start()
        await until_logged("transcribed voice", timeout=120)
        await fake.wait_for(lambda c: c.method == "sendMessage" and c.ok and c.chat_id == ALICE
                            and not c.params.get("text", "").startswith("🎙"), 0, 60)
        await asyncio.sleep(1.0)  # the reply is kept once it is sent in full
    finally:
        bot.send_signal(signal.SIGTERM)
        try:
            bot.wait(20)
        except subprocess.TimeoutExpired:
            bot.kill()
    log = log_path.read_text(errors="replace")
    assert log.count("transcribed voice") == 1, "transcribed more than once"
    rows = stored()
    users = [r for r in rows if r[0].startswith("user: ")]
    assert len(users) == 1 and "kitchen tap" in users[0][0] and users[0][1]["media"] == "done"
    assert len([r for r in rows if r[0].startswith("assistant: ")]) == 1  # answered once
    shown = [m["text"] for m in fake.bot_messages(ALICE)]
    assert len([t for t in shown if t.startswith("🎙")]) == 1 and "kitchen tap" in shown[0]
    assert voice["message_id"] == 1


async def test_import_with_media_transcribes_voice_messages_and_reads_photos_once(tmp_path, speech):
    """A Telegram Desktop export with its media files beside result.json: --media makes them text, and importing
    it again transcribes nothing again."""
    from bot.importing import import_chats, load
    from bot.media import texts
    from memory import Memory

    export = tmp_path / "ChatExport_2024-03-02"
    (export / "voice_messages").mkdir(parents=True)
    (export / "photos").mkdir()
    speak("The boat leaves from the old harbour at dawn.", export / "voice_messages" / "audio_1@02-03-2024.ogg")
    picture(["Ferry ticket", "Boat to the island"], export / "photos" / "photo_1@02-03-2024.png")
    base = {"type": "message", "from": "Ana", "from_id": "user111"}
    messages = [
        {**base, "id": 1, "date_unixtime": "1709373600", "text": "see you at the port"},
        {**base, "id": 2, "date_unixtime": "1709373660", "text": "", "media_type": "voice_message",
         "file": "voice_messages/audio_1@02-03-2024.ogg", "mime_type": "audio/ogg", "duration_seconds": 3},
        {**base, "id": 3, "date_unixtime": "1709373720", "text": "the ticket",
         "photo": "photos/photo_1@02-03-2024.png", "width": 400, "height": 120},
        {**base, "id": 4, "date_unixtime": "1709373780", "text": "", "media_type": "voice_message",
         "file": "(File not included. Change data exporting settings to download.)", "duration_seconds": 9},
        {**base, "id": 5, "date_unixtime": "1709373840", "text": "", "media_type": "voice_message",
         "file": "../../etc/passwd", "duration_seconds": 9},
    ]
    (export / "result.json").write_text(json.dumps({"name": "Ferry", "type": "personal_chat", "id": 42,
                                                    "messages": messages}))
    memory = Memory(tmp_path / "engram.db", HashEmbedder(64))
    await memory.start()
    try:
        chats = load(export / "result.json").chats
        first = await import_chats(memory, chats, media=speech.text_of_file, media_folder=export)
        assert first.imported == 3 and dict(first.media) == {"voice": 1, "photo": 1}
        assert first.skipped["voice without text"] == 1 and first.skipped["voice file missing"] == 1
        stored = {m["meta"]["import"]["id"]: m for m in await memory.messages.export(42)}  # by the export's ids
        voice = stored[2]
        assert "the boat leaves from the old harbo" in voice["text"].lower() and voice["meta"]["media"] == texts.DONE
        assert voice["meta"]["kind"] == "voice" and voice["meta"]["language"] == "en"
        photo = stored[3]
        assert photo["text"].startswith("the ticket\n") and "Ferry ticket" in photo["text"]
        found = {h.message.text for h in await memory.messages.search(42, "boat", 3)}
        assert voice["text"] in found and photo["text"] in found
        again = await import_chats(memory, chats, media=speech.text_of_file, media_folder=export)
        assert again.imported == 0 and again.present == 3 and not again.media
    finally:
        await memory.stop()


async def test_the_terminal_transcribes_a_file_with_voice_and_answers_it(tmp_path, memory, speech):
    import io

    from bot.cli.chat import Terminal
    from bot.config import Config, Statements
    from bot.services import build_assistant

    config = Config(base_dir=tmp_path)
    config.assistant.statements = Statements.MODEL
    out = io.StringIO()
    terminal = Terminal(config, 0, "you", out=out)
    llm = ScriptedLLM(echo_memories)
    await llm.start()
    terminal.assistant = build_assistant(config, memory, llm)
    terminal.media = speech  # the session's, model loaded
    clip = speak("The spare key is under the blue flower pot.", tmp_path / "note.ogg")
    await terminal.command(f"/voice {clip}")
    shown = out.getvalue()
    assert "🎙 The spare key is under the blue flower pot." in shown
    assert "engram> You said: The spare key is under the blue flower pot." in shown
    (said,) = [m for m in await memory.messages.recent(0, 5) if m.role == "user"]
    assert said.kind == "voice" and said.meta["media"] == "done" and said.text.startswith("The spare key")
    await terminal.command("/voice /no/such/file.ogg")
    assert out.getvalue().rstrip().endswith("Usage: /voice <audio file> (a voice note, MP3, M4A, WAV, a video…)")


async def test_a_long_recording_shows_its_progress_and_then_its_transcript(fake, voice_bot, tmp_path, monkeypatch):
    import handlers.media

    monkeypatch.setattr(handlers.media, "PROGRESS_FROM", 10.0)  # "long": 10 s here (a minute in use)
    monkeypatch.setattr(handlers.media, "PROGRESS_EVERY", 0.1)
    clip = speak(LONG_SPEECH, tmp_path / "long.ogg")
    voice = await fake.voice(ALICE, clip.read_bytes(), duration=18)
    await until_made(voice_bot, ALICE, voice["message_id"])
    await voice_bot.settle(60)
    first = fake.calls_of("sendMessage", ALICE)[0]
    assert first.params["text"] == "🎙 transcribing 0:18… 0%"
    edits = [c.params["text"] for c in fake.calls_of("editMessageText", ALICE)
             if c.params["message_id"] == first.result["message_id"]]
    assert any(t.startswith("🎙 transcribing 0:18… ") and t.endswith("%") and not t.endswith(" 0%") for t in edits)
    shown = fake.messages[(ALICE, first.result["message_id"])]["text"]
    assert shown.startswith("🎙 The plumber said") and "kitchen tap" in shown  # the progress became the transcript


async def test_a_voice_message_handled_again_after_its_transcript_was_stored_is_not_transcribed_twice(
        fake, voice_bot, tmp_path):
    """The window a crash can hit between storing the transcript and marking the update handled: the update comes
    back (here pushed again under a new update id), and the stored transcript is kept, not made again."""
    voice = await send_voice(fake, tmp_path, ALICE, "The spare key is under the blue flower pot.")
    stored = await until_made(voice_bot, ALICE, voice["message_id"])
    await voice_bot.settle(60)
    assert voice_bot.media is not None
    transcribed, shown = voice_bot.media.transcribed, len(fake.bot_messages(ALICE))
    await fake.push(message=fake.messages[(ALICE, voice["message_id"])])
    await command(fake, ALICE, "/start")  # handled after the repeated update
    await voice_bot.settle(30)
    assert voice_bot.media.transcribed == transcribed
    assert len(fake.bot_messages(ALICE)) == shown + 1  # only /start's answer
    assert (await voice_bot.memory.messages.get(ALICE, voice["message_id"])).text == stored.text


async def test_with_transcription_off_a_voice_message_is_kept_as_what_it_is_without_a_word(fake, tmp_path):
    config = bot_config(tmp_path, fake, allowed_user_ids=[ALICE])
    config.media.transcribe = False
    async with bot_running(config, ScriptedLLM(echo_memories), HashEmbedder(64)) as services:
        voice = await fake.voice(ALICE, b"OggS not even looked at", duration=42)
        stored = await until_stored(services, ALICE, voice["message_id"])
        assert stored.text == "voice message, 0:42" and stored.kind == "voice"
        await command(fake, ALICE, "/start")
        await services.settle(10)
        assert [m["text"] for m in fake.bot_messages(ALICE)][:-1] == []  # nothing but /start's answer


async def test_a_plan_said_in_a_voice_note_is_on_the_schedule(fake, voice_bot, tmp_path):
    """The days a transcript speaks of are read when it is filled in, as for a typed message."""
    sent = await send_voice(fake, tmp_path, ALICE, "I have a dentist appointment tomorrow at ten.")
    stored = await until_made(voice_bot, ALICE, sent["message_id"])
    for _ in range(100):  # the days are written right after the transcript (Assistant.fill)
        if "days" in stored.meta:
            break
        await asyncio.sleep(0.05)
        stored = await voice_bot.memory.messages.get(ALICE, sent["message_id"])
    assert "dentist" in stored.text.lower() and len(stored.meta.get("days", [])) == 1, (stored.text, stored.meta)
    day = stored.meta["days"][0][0]
    found = await voice_bot.memory.messages.speaking_of(ALICE, day, day + 86400)
    assert [m.message_id for m in found] == [sent["message_id"]]
