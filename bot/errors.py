"""Engram's own errors. Library errors are translated into these where the two meet.

The message of each is written for a person: it is shown to the user as it is, so it never carries internals.
"""

import warnings
from datetime import timedelta


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


class MediaError(EngramError):
    """A voice message, audio file or picture that cannot be read (corrupt, silent, too long, too big).

    Raised with a template marked for translation (N_) and its values: str() is the English (logs, what is
    stored), `said()` the reason in the current chat's language (where it is shown)."""

    def __init__(self, template: str, **values: object):
        super().__init__(template.format(**values))
        self.template = template
        self.values = values

    def said(self) -> str:
        from bot.i18n import _

        return _(self.template).format(**self.values)


def retry_after_seconds(exc: BaseException) -> float | None:
    """How long a rate-limited call asks to wait (Telegram's RetryAfter, HTTP 429), or None if it does not say.

    python-telegram-bot 22 gives `retry_after` as an int or a timedelta (and warns that the int form is going):
    both are read here, once.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = getattr(exc, "retry_after", None)
    if value is None:
        return None
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
