"""The smoke run of ``make bench-smoke``: seed a tiny database, then every benchmark once, in
one process (Django starts once). It checks that they run, not their figures."""

import importlib
import time

from bench import common

SCRIPTS = ["seed", "api_list", "rsvp_page", "mail", "imports", "indexes"]


def main() -> None:
    if not common.smoke():
        raise SystemExit("Set BENCH_SMOKE=1 (make bench-smoke).")
    for name in SCRIPTS:
        started = time.monotonic()
        print(f"== bench/{name}.py (smoke)", flush=True)
        importlib.import_module(f"bench.{name}").main()
        print(f"   ({time.monotonic() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
