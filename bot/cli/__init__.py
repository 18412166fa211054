"""The terminal front ends: `python -m bot chat` (the terminal chat) and the one-shot tools (search, stats,
topics, reembed, prepare), on the same assistant, memory and commands as the Telegram bot."""
