"""What a chat talks about: topics, the map of the memory and timelines.

- `clustering`: UMAP + HDBSCAN over the chat's vectors, c-TF-IDF keywords (pure functions, run in a worker);
- `service`: the TopicService that runs them off the event loop in a worker process, caches results per chat;
- `charts`: the map and the timeline drawn as PNG pictures.
"""
