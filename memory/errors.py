"""Errors of the memory package (which knows nothing of the bot)."""


class MemoryStoreError(Exception):
    """Base of the memory package's errors."""


class ExtensionUnavailable(MemoryStoreError):
    """No SQLite that can load sqlite-vec was found."""


class ModelMismatch(MemoryStoreError):
    """The database holds vectors of another embedding model or dimension."""

    def __init__(self, recorded: str, recorded_dim: int, configured: str, configured_dim: int):
        self.recorded, self.recorded_dim = recorded, recorded_dim
        self.configured, self.configured_dim = configured, configured_dim
        super().__init__(
            f"The database was embedded with {recorded!r} ({recorded_dim}-d) but the configured model is "
            f"{configured!r} ({configured_dim}-d). Vectors of two models are never mixed: run "
            f"'./engram reembed' to re-embed every message with the new model, or set "
            f"embedding.on_model_change: reembed."
        )


class EmbeddingModelError(MemoryStoreError):
    """The embedding model cannot be found or loaded."""
