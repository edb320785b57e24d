"""Typed keys for what the application object carries."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from switchboard.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
