"""The digest job's handle: what accepting an event needs (`digest_job.schedule(key)`), apart from the pipeline
that runs it (digest.batch: normalize, scrub, symbolicate, group, the batch transaction, and what they load: the
User-Agent regexes, the JSON and source-map libraries). That is imported by the process that digests, when its first
digest runs; the web server of `make serve`, which only schedules, never loads it (~5 MB resident).

The job keeps its message name, `ingest.tasks.digest`, from when it lived in the ingest app, so messages queued
before an upgrade still run."""

from digest import claims
from ingest.raw import split_key


@claims.digest_job("ingest.tasks.digest", writer=lambda key: split_key(key)[0])
def digest_job(key: str) -> int:
    """Digest the raw event `key` and every other pending raw event of its project (digest.batch.run_digest_job)."""
    from digest.batch import run_digest_job

    return run_digest_job(key)
