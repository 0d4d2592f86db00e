"""The health app's streams (ingest.item_streams): sessions, client reports, and the types we only count."""

from collections import Counter
from datetime import UTC

from health.client_reports import digest_client_reports
from health.discards import add_discards
from health.models import DiscardCount
from health.sessions import digest_sessions
from ingest import item_streams
from ingest.not_kept import NOT_KEPT

# A session update is a few hundred bytes; an aggregate of a busy minute a few KiB.
MAX_SESSION_ITEM_SIZE = 64 * 1024
MAX_CLIENT_REPORT_SIZE = 32 * 1024


def count_not_kept(project, items) -> None:
    """Items of the types we do not keep arrive as markers (a zero-byte limit): count them per day and category,
    a container (spans: @sentry/node 10+ sends many in one `span` item) by the records its `item_count` names."""
    counts: Counter = Counter()
    for item in items:
        if item.item_type in NOT_KEPT:
            key = (item.ingested_at.astimezone(UTC).date(), DiscardCount.NOT_KEPT, NOT_KEPT[item.item_type])
            counts[(*key, item.item_type)] += item_streams.item_quantity(item.headers)
    add_discards(project, counts)


SESSIONS = item_streams.Stream(
    item_types=("session", "sessions"), max_item_size=MAX_SESSION_ITEM_SIZE, digest=digest_sessions, category="session"
)
CLIENT_REPORTS = item_streams.Stream(
    item_types=("client_report",),
    max_item_size=MAX_CLIENT_REPORT_SIZE,
    digest=digest_client_reports,
    category="internal",
)
NOT_KEPT_COUNTS = item_streams.Stream(item_types=tuple(NOT_KEPT), max_item_size=0, digest=count_not_kept)

for stream in (SESSIONS, CLIENT_REPORTS, NOT_KEPT_COUNTS):
    item_streams.register(stream)
