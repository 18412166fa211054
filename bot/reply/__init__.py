"""From a message to a finished reply: everything one answer goes through.

- `assistant`: the Assistant (stores the message, queues bursts, runs the reply's turn) and the Reply it hands out;
- `intent`: what kind of message it is (greeting, statement, question about the asker, question);
- `plan`: what is decided before the model runs (which memories, whether the model is needed at all);
- `attribution`: "whose was it" for a question naming a person of the chat;
- `prompt`, `demos`: the prompt and its worked examples;
- `filter`: the echo filter on the model's stream;
- `dating`: relative times copied from a memory said as the day they meant;
- `persons`: the asker's own words said back to them ("my dog" → "your dog");
- `citation`: the memory a finished reply cites, worded once for every front end.
"""
