"""What deriving browser, OS and device from a User-Agent costs digest (digest/useragent.py): the memory of the parser's
compiled regexes, CPU per string never seen (the cache misses) and per string seen before (the cache hits).

    python bench/useragent_bench.py [--strings 2000]

Each string is a real browser's User-Agent with its build number made unique, so that every first call is a miss.
Run once per resolver: digest uses google-re2 (ua-parser's `re2` extra, what requirements.txt installs), or
ua-parser-rs where that is installed instead; `--basic` forces the pure-Python one for comparison. Reports RSS (from
/proc) before and after.
"""

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.{n}.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 "
    "Mobile/15E{n} Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.{n}.144 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.{n}",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.{n}.0 "
    "Safari/537.36 Edg/120.0.0.0",
]


def rss_mib() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 1024 / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--strings", type=int, default=2000)
    parser.add_argument("--basic", action="store_true", help="the pure-Python resolver instead of the best one")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    start_rss = rss_mib()
    import ua_parser

    if args.basic:
        ua_parser.RegexResolver = ua_parser.Re2Resolver = None
        ua_parser.BestAvailableResolver = ua_parser.BasicResolver
    from digest import useragent

    imported_rss = rss_mib()
    strings = [BROWSERS[n % len(BROWSERS)].format(n=n) for n in range(args.strings)]
    useragent.parse_user_agent(strings[0])  # the resolver is made on first use
    loaded_rss = rss_mib()
    useragent.parse_user_agent.cache_clear()
    misses_start = time.process_time()
    for text in strings:
        useragent.parse_user_agent(text)
    misses = time.process_time() - misses_start
    hits_start = time.process_time()
    for _ in range(5):
        for text in strings:
            useragent.add_user_agent_contexts({"platform": "javascript", "request": {"headers": {"User-Agent": text}}})
    hits = time.process_time() - hits_start
    print(
        json.dumps(
            {
                "resolver": type(useragent._get_resolver()).__module__,
                "strings": len(strings),
                "rss_mib_import": round(imported_rss - start_rss, 1),
                "rss_mib_regexes": round(loaded_rss - imported_rss, 1),
                "rss_mib_after": round(rss_mib() - start_rss, 1),
                "cpu_ms_per_new_string": round(1000 * misses / len(strings), 3),
                "cpu_ms_per_event_cached": round(1000 * hits / (5 * len(strings)), 4),
            }
        )
    )


if __name__ == "__main__":
    main()
