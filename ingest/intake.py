"""Hand an accepted event to digest: durably stored first, then a digest job (bugsink.jobs decides how it runs:
inline without a broker, else one queued digest per project)."""

from digest.job import digest_job
from ingest.store import RawEvent, RawItem, store_raw_event


def accept_event(
    *,
    project_id: int,
    event_id: str,
    payload: bytes,
    received_at: float,
    remote_addr: str,
    items: list[RawItem] | None = None,
) -> str:
    key = store_raw_event(
        RawEvent(
            project_id=project_id,
            event_id=event_id,
            received_at=received_at,
            remote_addr=remote_addr,
            payload=payload,
            items=items or [],
        )
    )
    digest_job.schedule(key)
    return key
