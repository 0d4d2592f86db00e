"""The choices the mute forms offer (issue list and issue page alike), and reading a volume condition from a form.

Window semantics are calendar buckets in UTC: see bugsink.period_counter.
"""

from datetime import timedelta

MUTE_DURATIONS = {
    "1h": ("1 hour", timedelta(hours=1)),
    "8h": ("8 hours", timedelta(hours=8)),
    "24h": ("24 hours", timedelta(hours=24)),
    "7d": ("7 days", timedelta(days=7)),
}


def condition_data(form) -> dict:
    """The volume condition a mute form asks for, as a dict for VolumeBasedCondition.from_dict (which validates)."""
    return {
        "period": form.get("period", ""),
        "nr_of_periods": form.get("nr_of_periods", "").strip() or "1",
        "volume": form.get("volume", "").strip(),
    }
