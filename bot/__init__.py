"""Engram's application: one folder per concern.

- `reply/`: from a message to a finished reply (intent, plan, prompt, stream filters, citation);
- `commands/`: each command's logic once, and its rendering (plain text, Telegram HTML);
- `llm/`: the language model interface and its backends;
- `topics/`: topics, maps and timelines; `when/`: time phrases and zones;
- `reminders/`, `importing/`: reminders and history imports;
- `cli/`: the terminal chat and the command-line tools;
- `config` (the typed configuration), `services` (the one place that builds the long-lived parts), `housekeeping`,
  `errors`.

Front ends (handlers/ for Telegram, cli/ for the terminal) call into it; it calls memory/.
"""
