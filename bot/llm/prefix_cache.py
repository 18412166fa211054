"""Reuse the attention cache of the previous generation for the part of a new prompt that did not change.

Engram's prompts start with the same system prompt, and a follow-up in the same chat repeats the memories and
earlier turns too, so most of a new prompt was already run through the model last time. Keeping the key/value
cache of the last generation and cutting it back to the longest common token prefix lets `generate` compute
only the new tail: that is what makes the first token of a follow-up fast.

Only one cache is kept (the last generation's): it costs ~24 KB per token for SmolLM2-135M in bf16, and the
system prompt is shared by every chat anyway. Not thread-safe: the caller serialises generations.
"""

from __future__ import annotations

# Below this many shared tokens, reusing is not worth keeping the cache alive.
MIN_REUSE_TOKENS = 16


class PrefixCache:
    def __init__(self) -> None:
        self._tokens: list[int] = []
        self._cache = None  # a transformers Cache covering exactly self._tokens

    def take(self, prompt: list[int]):
        """(cache, reused_tokens) for `prompt`, or (None, 0). The cache is handed over: generate() extends it."""
        cache, tokens = self._cache, self._tokens
        self.clear()
        if cache is None:
            return None, 0
        shared = _common_prefix(tokens, prompt)
        shared = min(shared, len(prompt) - 1)  # generate needs at least one uncached token to start from
        if shared < MIN_REUSE_TOKENS:
            return None, 0
        if len(tokens) > shared:
            cache.crop(shared - len(tokens))  # negative: number of tokens to remove from the end
        return cache, shared

    def keep(self, sequence: list[int], cache) -> None:
        """Remember the cache `generate` returned; it covers all but the last token of `sequence`."""
        length = cache.get_seq_length() if cache is not None else 0
        if length <= 0:
            self.clear()
            return
        self._tokens = list(sequence[:length])
        self._cache = cache

    def clear(self) -> None:
        self._tokens, self._cache = [], None


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i
