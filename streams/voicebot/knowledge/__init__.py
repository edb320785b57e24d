"""The voice bot's knowledge base, pure: articles cut into chunks, and what a batch of
`knowledge.articles` does to the stored articles and their vectors (newest version wins; a
deleted or inactive article leaves the search; an unchanged one keeps its vectors).

No model and no database here: the embedder and the writes are in `sinks.voicebot.knowledge`.
"""
