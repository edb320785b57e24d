"""The tests, mirroring the packages: `unit` (pure, fast, no broker or database), `integration`
(a real Tansu broker and PostgreSQL), and `support` (the helpers they share).

Tests may import any package; nothing outside `tests` imports them. A test module never imports
another test module: what two tests share lives in `tests.support`.
"""
