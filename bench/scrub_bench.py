"""What server-side scrubbing (events.scrub) costs digest: normalize alone against normalize + scrub_event, per event,
on the in-repository samples and on a large synthetic event (many frames with many local variables, breadcrumbs and
an environment: the shape that makes the walk longest), with the default policy.

    python bench/scrub_bench.py [--rounds 20]

Pure CPU in this process; no server, no database.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bugsink.settings")

from digest.normalize import normalize_event  # noqa: E402
from events.scrub import ScrubPolicy, scrub_event  # noqa: E402
from testing.utils import sample_files  # noqa: E402


def large_event() -> dict:
    frames = [
        {
            "filename": f"app/module_{i}.py",
            "function": f"handler_{i}",
            "lineno": i,
            "context_line": f"    result = compute(order, attempt={i})",
            "pre_context": ["def handler(order):", "    total = 0"],
            "vars": {f"var_{j}": f"'value {i}-{j} of order 4242'" for j in range(20)} | {"settings": {"db": "x"}},
        }
        for i in range(200)
    ]
    return {
        "platform": "python",
        "exception": {"values": [{"type": "ValueError", "value": "bad order", "stacktrace": {"frames": frames}}]},
        "breadcrumbs": {"values": [{"category": "http", "data": {"url": f"/orders/{i}?page=2"}} for i in range(100)]},
        "extra": {"environ": {f"VARIABLE_{i}": f"/usr/local/lib/{i}" for i in range(150)}},
        "request": {"url": "https://shop.example/checkout", "headers": {"Accept": "text/html", "Host": "shop.example"}},
    }


def per_event_seconds(events: list[dict], scrub: bool, rounds: int) -> float:
    policy = ScrubPolicy()
    texts = [json.dumps(event) for event in events]
    start = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            data = normalize_event(json.loads(text), event_id="a" * 32, received_at=1.7e9)
            if scrub:
                scrub_event(data, policy)
    return (time.perf_counter() - start) / (rounds * len(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    samples = [json.loads(path.read_text()) for path in sample_files()]
    large = [large_event()]
    print(f"large event: {len(json.dumps(large[0])) / 1024:.0f} KiB of JSON")
    for name, events, rounds in (("samples", samples, args.rounds), ("large", large, max(args.rounds // 4, 1))):
        base = per_event_seconds(events, False, rounds)
        scrubbed = per_event_seconds(events, True, rounds)
        print(
            f"{name:8} ({len(events)} events): parse+normalize {base * 1e6:8.0f} µs/event, "
            f"+scrub {scrubbed * 1e6:8.0f} µs/event (scrub {(scrubbed - base) * 1e6:7.0f} µs, "
            f"{(scrubbed - base) / base * 100:4.0f}% of parse+normalize)"
        )


if __name__ == "__main__":
    main()
