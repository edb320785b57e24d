"""Integration tests of failure: broker, database and registry outages, worker crashes, restarts."""
