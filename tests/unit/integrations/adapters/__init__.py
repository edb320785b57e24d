"""Unit tests of the adapters: the exact requests each integration type sends, and how answers
are judged."""
