"""Every command's logic once, for every front end (Telegram, the terminal chat, the command line).

- `actions`: what a command does, returning plain data (search pages, stats, the forget request, topics…);
- `views`: that data rendered as plain text (terminal, CLI) or Telegram HTML.
"""
