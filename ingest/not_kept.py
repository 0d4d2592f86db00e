"""The envelope item types this server does not keep, and the answer that tells SDKs to stop sending them.

Sentry's SDKs honour `X-Sentry-Rate-Limits: <seconds>:<category>;<category>...:<scope>:<reason>` on any answer: for
that long they drop (and report in their client reports) whatever falls in the named data categories, before
sending. Answering an envelope that held any of these types with one entry naming all of their categories stops
the SDK sending all of them after its first try. The categories never include error, default, security, session,
monitor or log_item: errors and the streams we keep flow on.

The items themselves are only counted (the health app registers a stream for these types with no room for a
payload: digest gets a marker per item).
"""

# item type -> its Sentry data category
NOT_KEPT = {
    "transaction": "transaction",
    "span": "span",
    "profile": "profile",
    "profile_chunk": "profile_chunk",
    "replay_event": "replay",
    "replay_recording": "replay",
    "replay_video": "replay",
    "statsd": "metric_bucket",
    "metric_buckets": "metric_bucket",
}
RETRY_AFTER_SECONDS = 3600
SCOPE = "organization"
REASON = "not_kept"
HEADER_VALUE = f"{RETRY_AFTER_SECONDS}:{';'.join(sorted(set(NOT_KEPT.values())))}:{SCOPE}:{REASON}"


def rate_limits_for(item_types) -> dict[str, str]:
    """The headers of the answer to an envelope with these item types: X-Sentry-Rate-Limits if any is not kept."""
    if any(item_type in NOT_KEPT for item_type in item_types):
        return {"X-Sentry-Rate-Limits": HEADER_VALUE}
    return {}
