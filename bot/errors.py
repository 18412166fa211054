"""Engram's own errors. Library errors are translated into these where the two meet.

The message of each is written for a person: it is shown to the user as it is, so it never carries internals.
"""


class EngramError(Exception):
    """Base of every error Engram raises on purpose."""


class ConfigError(EngramError):
    """The configuration is missing, malformed or inconsistent."""


class LLMError(EngramError):
    """The language model failed to produce a reply."""


class LLMUnavailable(LLMError):
    """The model cannot be loaded or its server cannot be reached."""


class GenerationCancelled(LLMError):
    """A generation was stopped before it finished."""
