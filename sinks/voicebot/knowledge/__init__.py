"""The knowledge base's writes and its embedding model: `knowledge.articles` into
`voicebot.knowledge_articles`, their chunks' vectors into `voicebot.knowledge_embeddings`
(pgvector, where the server has it), and the model that makes them (`embedder`), which the API
also uses for each search's query.
"""
