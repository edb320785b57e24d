"""Unit tests: pure and fast, no broker, database or network. The folders mirror the packages
(`tests/unit/streams/telephony` tests `streams/telephony`); `deploy` checks the deployment files.
"""
