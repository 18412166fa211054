"""Topics, the map and timelines: clustering quality, periods, small chats, chat isolation, the pictures, the cache.

Fast tests use the hash embedder (bag of words) on chats composed from a few vocabularies, so each topic's
messages share words and lie close; one slow test clusters a public labelled chat with the real model.
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.commands import actions, topic_commands
from bot.topics import charts, clustering
from bot.topics.service import TopicService, count_by_period
from memory import Message

VOCABULARIES = {
    "cooking": "pasta garlic oven recipe tomato basil dough sauce onion simmer".split(),
    "football": "match goal striker league referee penalty keeper stadium offside coach".split(),
    "moving": "flat landlord rent boxes lease deposit furniture keys neighbour van".split(),
    "health": "doctor fever headache pills clinic appointment cough vaccine nurse allergy".split(),
}
NOV_1 = datetime(2026, 11, 1, tzinfo=timezone.utc).timestamp()
DAY = 86400.0


def composed(chat_id: int, per_topic: int, *, start: float = NOV_1, step: float = 3600.0, seed: int = 0,
             vocabularies: dict[str, list[str]] = VOCABULARIES) -> tuple[list[Message], list[str]]:
    """Messages of known topics, shuffled over time: each is 4 words of its topic's vocabulary."""
    rng = random.Random(seed)
    labelled = [(name, " ".join(rng.sample(words, 4))) for name, words in vocabularies.items()
                for _ in range(per_topic)]
    rng.shuffle(labelled)
    messages = [Message(chat_id, i + 1, text, sender_name="Ana", role="user" if i % 3 else "assistant",
                        created_at=start + i * step) for i, (_, text) in enumerate(labelled)]
    return messages, [name for name, _ in labelled]


@pytest.fixture
async def service(memory):
    # numba's compiled code is kept where the bot keeps it (.cache/numba): compiled once, not in every test
    # in a thread (isolated=False): the worker process is tested end to end (test_topics_telegram.py)
    return TopicService(memory, cache_dir=str(Path(__file__).resolve().parents[1] / ".cache"), isolated=False)


def nmi(truth, labels) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    return normalized_mutual_info_score(truth, labels)


# ----- clustering --------------------------------------------------------------------------------------------
async def test_clustering_recovers_known_topics_and_names_them(memory, service):
    messages, truth = composed(1, 40)
    await memory.messages.remember_many(messages)
    result = await service.topics(1, (0.0, float("inf")), "all time")
    assert nmi(truth, result.model.labels) >= 0.8
    assert result.model.noise <= 0.1 * len(messages)
    for topic in result.model.topics:
        members = {truth[i] for i in topic.members}
        assert len(members) == 1, topic.keywords  # pure
        assert set(topic.keywords) <= set(VOCABULARIES[members.pop()])  # named by its own words


def test_ctfidf_prefers_distinctive_words():
    texts = ["the cat sat on the mat", "cat food for the cat", "my cat", "dog walk in the park", "dog bone dog"]
    labels = np.array([0, 0, 0, 1, 1])
    cat, dog = clustering.ctfidf_keywords(texts, labels, [0, 1], top=1)
    assert (cat, dog) == (["cat"], ["dog"])


def test_sampled_fit_assigns_every_message():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 32))
    truth = rng.integers(0, 5, 900)
    vectors = centres[truth] + rng.normal(0, 0.25, (900, 32))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    model = clustering.find_topics(vectors, ["word"] * 900, fit_max=300)
    assert model.fitted_on == 300
    assert nmi(truth, model.labels) >= 0.8
    assert all(len(set(truth[t.members].tolist())) == 1 for t in model.topics)
    assert sum(t.size for t in model.topics) + model.noise == 900


@pytest.mark.slow
def test_real_model_on_the_labelled_public_chat(minilm):
    from bench.topics_data import labelled_chat
    from bench.topics_quality import scores

    chat = labelled_chat()
    vectors = minilm.embed_batch([m.text for m in chat])
    model = clustering.find_topics(vectors, [m.text for m in chat])
    found = scores([m.topic for m in chat], model.labels)
    assert len({m.topic for m in chat}) >= 8
    assert found["nmi"] >= 0.5, found
    assert found["noise"] <= 0.25, found


# ----- periods, small and empty chats ------------------------------------------------------------------------
async def test_periods_filter_the_messages(memory, service):
    october, _ = composed(1, 20, start=NOV_1 - 31 * DAY, step=DAY / 4)  # 80 messages, 1-21 Oct
    november, _ = composed(1, 20, start=NOV_1, step=DAY / 4, seed=1)  # 80 messages, 1-21 Nov
    for i, m in enumerate(november):
        m.message_id = 1000 + i
    await memory.messages.remember_many(october + november)
    now = NOV_1 + 40 * DAY  # 11 Dec 2026: "last week" is 30 Nov - 6 Dec, empty
    report = await topic_commands.topics(service, 1, "in November", now=now)
    assert report.messages == 80
    assert all(NOV_1 <= t.first <= t.last < NOV_1 + 30 * DAY for t in report.topics)
    assert (await topic_commands.topics(service, 1, "October", now=now)).messages == 80
    assert (await topic_commands.topics(service, 1, "2026", now=now)).messages == 160
    assert (await topic_commands.topics(service, 1, "", now=now)).period == "all time"
    with pytest.raises(topic_commands.NotEnoughMessages, match="Only 0 messages"):
        await topic_commands.topics(service, 1, "last week", now=now)
    with pytest.raises(actions.UsageError, match="cannot read"):
        await topic_commands.topics(service, 1, "bananas", now=now)


async def test_small_and_empty_chats_get_a_clear_answer(memory, service):
    with pytest.raises(topic_commands.NotEnoughMessages, match=r"Only 0 messages in this chat so far — .* about 50"):
        await topic_commands.topics(service, 5, "")
    await memory.messages.remember_many(composed(5, 3)[0])  # 12 messages
    with pytest.raises(topic_commands.NotEnoughMessages, match="Only 12 messages in this chat so far"):
        await topic_commands.topics(service, 5, "")
    with pytest.raises(topic_commands.NotEnoughMessages, match="Only 12 messages"):
        await topic_commands.topic_map(service, 5, "")
    with pytest.raises(topic_commands.NotEnoughMessages, match="Nothing in this chat's memory is about"):
        await topic_commands.timeline(service, 6, "pasta")
    with pytest.raises(actions.UsageError, match="Usage: /timeline"):
        await topic_commands.timeline(service, 5, " ")


# ----- chat isolation ----------------------------------------------------------------------------------------
async def test_a_chat_never_sees_another_chats_messages(memory, service):
    ours, _ = composed(1, 20, vocabularies={k: VOCABULARIES[k] for k in ("cooking", "football", "moving")})
    theirs, _ = composed(2, 30, vocabularies={"health": VOCABULARIES["health"]})
    stored = await memory.messages.remember_many(ours + theirs)
    report = await topic_commands.topics(service, 1, "")
    assert report.messages == len(ours)
    their_words = set(VOCABULARIES["health"])
    for t in report.topics:
        assert not their_words & set(t.keywords)
        assert all(e.chat_id == 1 for e in t.examples)
        page = await topic_commands.topic_page(service, 1, report.key, t.id)
        assert page.messages and all(m.chat_id == 1 for m in page.messages)
    with pytest.raises(actions.UsageError, match="expired"):  # chat 2 cannot use chat 1's buttons
        await topic_commands.topic_page(service, 2, report.key, 1)
    result = service.latest(1)
    assert result is not None and set(result.ids.tolist()) == {m.id for m in stored if m.chat_id == 1}
    with pytest.raises(topic_commands.NotEnoughMessages):  # the words of chat 2 are nowhere in chat 1
        await topic_commands.timeline(service, 1, "fever")
    picture = await topic_commands.topic_map(service, 1, "")
    assert f"{len(ours)} messages" in picture.caption


async def test_the_worker_reads_the_chat_in_chunks_and_the_bot_never_loads_it(memory, service, monkeypatch):
    from memory.corpus import ChatReader

    ours, _ = composed(1, 20)
    await memory.messages.remember_many(ours + composed(2, 5)[0])
    whole = await memory.messages.chat_corpus(1)
    with ChatReader(memory.path, 1, chunk=7) as chat:  # chunks of 7 rows line up with the ids
        assert chat.ids.tolist() == whole.ids.tolist() and chat.bot.tolist() == [r == "assistant" for r in whole.roles]
        assert np.allclose(np.vstack([block for _, block in chat.chunks()]), whole.vectors)
        picked = np.array([0, 6, 7, 50, len(chat) - 1])
        assert np.allclose(chat.take(picked), whole.vectors[picked])
        assert list(chat.texts()) == whole.texts and chat.state().count == len(ours)

    async def never(*args, **kwargs):
        raise AssertionError("the bot's process loaded a whole chat")

    monkeypatch.setattr(memory.messages, "chat_corpus", never)
    report = await topic_commands.topics(service, 1, "")
    assert report.messages == len(ours)
    assert (await topic_commands.topic_map(service, 1, "")).png
    assert (await topic_commands.timeline(service, 1, "garlic")).png


# ----- pictures ----------------------------------------------------------------------------------------------
async def test_the_pictures_decode_at_the_promised_size(memory, service):
    await memory.messages.remember_many(composed(1, 30)[0])
    picture = await topic_commands.topic_map(service, 1, "")
    image = Image.open(io.BytesIO(picture.png))
    assert image.format == "PNG" and image.size[0] >= 1280 and image.size == (charts.WIDTH_PX, charts.MAP_HEIGHT_PX)
    assert "120 messages" in picture.caption and "topics" in picture.caption
    report = await topic_commands.topics(service, 1, "")
    for chart in (await topic_commands.timeline(service, 1, "garlic pasta"),
                  await topic_commands.timeline(service, 1, str(report.topics[0].id))):
        image = Image.open(io.BytesIO(chart.png))
        assert image.format == "PNG" and image.size == (charts.WIDTH_PX, charts.TIMELINE_HEIGHT_PX)
    assert "garlic pasta" in (await topic_commands.timeline(service, 1, "garlic pasta")).caption


def test_timeline_counts_every_week_or_month():
    weeks = count_by_period(np.array([NOV_1, NOV_1 + 1, NOV_1 + 15 * DAY]), "UTC")  # Sun 1 Nov, Mon 16 Nov 2026
    assert weeks.unit == "week" and weeks.counts == [2, 0, 0, 1] and weeks.buckets[0] == "26 Oct 2026"
    months = count_by_period(np.array([NOV_1 - 300 * DAY, NOV_1]), "UTC")
    assert months.unit == "month" and len(months.counts) == 11 and sum(months.counts) == 2


# ----- the cache ---------------------------------------------------------------------------------------------
async def test_results_are_cached_until_the_chat_grows_or_forgets(memory, service):
    messages, _ = composed(1, 30)
    await memory.messages.remember_many(messages)
    forever = (0.0, float("inf"))
    first = await service.topics(1, forever, "all time")
    assert (await service.topics(1, forever, "all time")).key == first.key
    more, _ = composed(1, 2, start=NOV_1 + 200 * DAY, seed=3)  # 8 more: under the margin
    for i, m in enumerate(more):
        m.message_id = 500 + i
    await memory.messages.remember_many(more)
    assert (await service.topics(1, forever, "all time")).key == first.key
    await memory.messages.forget(1, messages[0].message_id)
    after_forget = await service.topics(1, forever, "all time")
    assert after_forget.key != first.key and after_forget.messages == len(messages) + len(more) - 1


# ----- the terminal chat and the command line's JSON ---------------------------------------------------------
async def test_terminal_prints_topics_and_writes_the_map(memory, service, tmp_path):
    from bot.cli.chat import Terminal
    from bot.config import Config

    await memory.messages.remember_many(composed(3, 20)[0])
    out = io.StringIO()
    terminal = Terminal(Config(base_dir=tmp_path), 3, "you", out=out)
    terminal.topics = service
    await terminal.command("/topics")
    assert out.getvalue().startswith("Topics — all time: 80 messages")
    await terminal.command("/topic 1")
    assert "Topic 1:" in out.getvalue()
    await terminal.command("/map")
    path = Path(out.getvalue().rsplit("Written to ", 1)[1].strip())
    assert Image.open(path).size[0] >= 1280
    path.unlink()
    await terminal.command("/topics next year")
    assert "cannot read" in out.getvalue()


async def test_json_has_the_promised_shape(memory, service):
    from bot.cli.tools import topics_json

    await memory.messages.remember_many(composed(1, 20)[0])
    data = topics_json(await topic_commands.topics(service, 1, "", shown=None))
    assert data["messages"] == 80 and isinstance(data["noise"], int)
    assert sum(t["size"] for t in data["topics"]) + data["noise"] == 80
    for t in data["topics"]:
        assert set(t) == {"id", "label", "keywords", "size", "first", "last", "examples"}
        assert t["first"] <= t["last"] and 1 <= len(t["examples"]) <= 2


async def test_topic_numbers_and_pages_are_answered_plainly(memory, service, capsys, tmp_path):
    """/topic and /timeline N say what is wrong: no /topics yet, no such topic (and how many there are), no such
    page (and how many there are); a page says where it stands and how to see the others."""
    from argparse import Namespace

    from bot.cli.tools import topics_report
    from bot.commands import views
    from bot.text import HTML, PLAIN

    for ask in (topic_commands.topic_command(service, 1, "1"), topic_commands.timeline(service, 1, "1")):
        with pytest.raises(actions.UsageError, match="No topics yet in this chat: send /topics first"):
            await ask
    await memory.messages.remember_many(composed(1, 20)[0])
    report = await topic_commands.topics(service, 1, "")
    n = report.total_topics
    assert n >= 2
    for ask in (topic_commands.topic_command(service, 1, "9"), topic_commands.timeline(service, 1, "9")):
        with pytest.raises(actions.UsageError, match=f"There is no topic 9: the last /topics .* found {n} topics, "
                                                      f"numbered 1 to {n}"):
            await ask
    with pytest.raises(actions.UsageError, match="There is no topic 0"):  # a number, not words; topics start at 1
        await topic_commands.timeline(service, 1, "0")
    with pytest.raises(actions.UsageError, match="Usage: /topic N"):
        await topic_commands.topic_command(service, 1, "one")
    with pytest.raises(actions.UsageError, match="expired"):  # a button of a result no longer cached
        await topic_commands.topic_page(service, 1, "gone", 1)

    size = report.topics[0].size
    pages = -(-size // topic_commands.TOPIC_PAGE)
    assert pages >= 2
    with pytest.raises(actions.UsageError, match=f"There is no page 99 of topic 1: it has {pages} pages "
                                                  f"\\({size} messages"):
        await topic_commands.topic_command(service, 1, "1 99")
    first = await topic_commands.topic_command(service, 1, "1")
    assert (first.page, first.pages, first.more, len(first.messages)) == (0, pages, True, topic_commands.TOPIC_PAGE)
    assert views.topic_page_text(first, PLAIN, typed=True).endswith(f"Page 1 of {pages}: /topic 1 2 for the next.")
    assert views.topic_page_text(first, HTML).endswith(f"Page 1 of {pages}: the buttons below page on.")
    last = await topic_commands.topic_command(service, 1, f"1 {pages}")
    assert not last.more and last.first == (pages - 1) * topic_commands.TOPIC_PAGE + 1
    assert views.topic_page_text(last, PLAIN, typed=True).endswith(
        f"Page {pages} of {pages}: /topic 1 {pages - 1} for the one before.")
    assert (await topic_commands.timeline(service, 1, str(n))).caption.startswith(f"Topic {n},")

    # ./engram topics CHAT --timeline F --topic 9: the one error, nothing printed before it, no file written
    capsys.readouterr()
    chart = tmp_path / "trend.png"
    args = Namespace(chat_id=1, json=True, png=None, timeline=str(chart), topic=9)
    with pytest.raises(actions.UsageError, match=f"There is no topic 9: .* found {n} topics"):
        await topics_report(service, args, "", "UTC")
    assert capsys.readouterr().out == "" and not chart.exists()
    args.topic = n
    await topics_report(service, args, "", "UTC")
    assert capsys.readouterr().out.startswith("{") and chart.stat().st_size > 0


async def test_the_terminals_pictures_never_share_a_file(memory, service, tmp_path):
    from bot.cli.chat import Terminal
    from bot.config import Config

    terminal = Terminal(Config(base_dir=tmp_path), 3, "you", out=io.StringIO())
    paths = []
    for png in (b"first", b"second"):  # in the same second
        terminal.picture(topic_commands.Picture(png, "caption"), "timeline")
        paths.append(Path(terminal.out.getvalue().rsplit("Written to ", 1)[1].strip()))
    try:
        assert paths[0] != paths[1] and [p.read_bytes() for p in paths] == [b"first", b"second"]
        assert all(p.name.startswith("engram-timeline-3-") and p.suffix == ".png" for p in paths)
    finally:
        for p in paths:
            p.unlink()


# ----- the worker process ------------------------------------------------------------------------------------
async def test_a_dead_worker_is_replaced(memory):
    import os
    import signal

    service = TopicService(memory)  # in a worker process, as in the bot
    try:
        await memory.messages.remember_many(composed(1, 15)[0])
        first = await service.topics(1, (0.0, float("inf")), "all time")
        (pid,) = service.worker.pids()
        os.kill(pid, signal.SIGKILL)
        service._results.clear()
        again = await service.topics(1, (0.0, float("inf")), "all time")
        assert again.key != first.key and len(again.model.topics) == len(first.model.topics)
        assert service.worker.pids() and service.worker.pids() != [pid]
    finally:
        service.stop()
    assert service.worker.pids() == []


# ----- numba's cache -----------------------------------------------------------------------------------------
PROBE = """
import sys
from numba.core import event
compiled = []
class Listener(event.Listener):
    def on_start(self, ev): pass
    def on_end(self, ev): compiled.append(ev.data["dispatcher"].py_func.__qualname__)
event.register("numba:compile", Listener())
from bot.topics.service import warm_topics
warm_topics(sys.argv[1])
print(" ".join(compiled))
"""


@pytest.mark.slow
def test_warm_up_leaves_umaps_code_compiled_for_the_next_process(tmp_path):
    """`./engram topics --warm` (scripts/setup.sh, the Dockerfile) compiles UMAP's numba code into the cache, so
    a new worker process loads it instead of compiling it (the first /topics after install took 37 s)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}  # conftest.py sets it for the tests
    (tmp_path / "config.yaml").write_text("llm:\n  cache_dir: cache/models\n")
    warm = subprocess.run([sys.executable, "-m", "bot", "--config", str(tmp_path / "config.yaml"), "topics",
                           "--warm"], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert warm.returncode == 0, warm.stderr
    assert "compiled code ready" in warm.stdout and list((tmp_path / "cache" / "numba").rglob("*.nbi"))
    probe = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "cache")], cwd=root, env=env,
                           capture_output=True, text=True, timeout=600)
    assert probe.returncode == 0, probe.stderr
    compiled = set(probe.stdout.split())
    heavy = {"smooth_knn_dist", "compute_membership_strengths", "_optimize_layout_euclidean_single_epoch"}
    assert not heavy & compiled, compiled
