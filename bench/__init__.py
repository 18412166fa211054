"""Engram's benchmarks and evaluations: commands of the project (`./engram bench-…`, `./engram eval-…`, or
`python -m bench …`), not part of the running assistant nor of its Docker image. They use the same public APIs as
the app (memory.Memory / memory.Store, bot.reply.assistant, the LLM backends)."""
