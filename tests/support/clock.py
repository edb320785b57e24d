"""The instants the tests' fixtures start at, one definition each.

`T0` is the contact centre's morning most fixtures share. The others are shared by a test of
one layer and the test of the same records in another (a fold and its sink, a cursor and its
route), which must agree on the day; a test that needs an instant of its own keeps it.
"""

from datetime import UTC, datetime

# A weekday morning of the contact centre: calls, queues, agents, chats and outcomes.
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
# The end-to-end tests' hand-made calls (tests.support.traffic), an hour before T0.
CALLS_T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
# Dictionaries, thresholds and dimensions valid from the first of the month.
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)
# A day of chats and outcomes already written to their tables.
INTERACTIONS_T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
# Seed 001's deal is created (7.6).
DEAL_T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# Deals of several tenants.
TENANCY_T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
# The analytics world's day.
ANALYTICS_T0 = datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
# Calls listed page by page.
PAGING_T0 = datetime(2025, 1, 3, 10, 0, tzinfo=UTC)
# An old queue_log, loaded as history.
QUEUE_LOG_T0 = datetime(2012, 3, 14, 9, 0, tzinfo=UTC)
