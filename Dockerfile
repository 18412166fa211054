# Engram with both models baked in. Build: docker build -t engram .
# Run:   docker run -d --name engram -e TELEGRAM_BOT_TOKEN=... -v engram-data:/app/data engram
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENGRAM_VENV=/opt/venv \
    TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ENGRAM_HOUSEKEEPING__BACKUP_DIR=data/backups

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. setup.sh is the same script ./engram runs.
COPY requirements.txt requirements-dev.txt ./
COPY scripts/setup.sh scripts/setup.sh
RUN bash scripts/setup.sh

COPY engram config.yaml ./
COPY bot bot
COPY memory memory
COPY handlers handlers

# Convert the bundled GGUF model to its cached form now, so the container starts in seconds.
RUN ./engram prepare

# The database and its backups live in a volume: they survive image upgrades.
VOLUME ["/app/data"]
CMD ["./engram", "run"]
