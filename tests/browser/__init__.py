"""Browser tests: the dashboard in real headless Chromium (Debian's, driven by Playwright)
against `switchboard up` with simulated traffic, every figure checked against the API."""
