"""The API's HTTP contract, declared once: pydantic models per query, path, body and response,
routes declared with them (`route.py`), requests parsed into them (`query.py`) and the OpenAPI
document generated from them and the router (`document.py`).

It imports nothing from `api.routes` or `api.analytics`: they declare themselves through it.
"""
