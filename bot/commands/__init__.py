"""Every command's logic once, for every front end (Telegram, the terminal chat, the command line).

- `actions`: what a memory command does, returning plain data (search pages, /why, /compare, stats, export, the
  forget request);
- `topic_commands`: the same for /topics, /topic, /map and /timeline;
- `views`: that data rendered as plain text (terminal, CLI) or Telegram HTML;
- `table`: which command each front end has, and why not where it does not.
"""
