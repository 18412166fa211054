"""What the real-model tests of every runtime ask (tests/test_llm_local.py, tests/test_llm_onnx.py)."""

from __future__ import annotations

from bot.llm.base import GenerationSettings

QUESTION = [
    {"role": "system", "content": "You are a helpful assistant. Answer briefly."},
    {"role": "user", "content": "What is the capital of France?"},
]
SHORT = GenerationSettings(max_new_tokens=8)
