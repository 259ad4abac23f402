"""What every benchmark shares: Django set up on ``bench.settings`` against PostgreSQL, the
scale, timing helpers and the table printer.

Figures are medians of many runs on a machine shared with other work: compare the ratios
printed side by side in one run, not absolute times across runs."""

import os
import statistics
import sys
import time
from collections.abc import Callable

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/alliance_bench"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("The benchmarks run on PostgreSQL: set DATABASE_URL=postgres://…")


def vacuum(*tables: str) -> None:
    """``VACUUM ANALYZE`` the tables a benchmark reads: rows that earlier runs deleted (the
    import benchmark's, for one) would otherwise make every count and scan read them too."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(table)}")


def scale() -> int:
    return int(os.environ.get("BENCH_SCALE", "100000"))


def requests() -> int:
    return int(os.environ.get("BENCH_REQUESTS", "200"))


def smoke() -> bool:
    """A tiny run that checks the benchmarks work, not their figures."""
    return os.environ.get("BENCH_SMOKE", "") == "1"


def time_ms(fn: Callable[[], object], n: int, warmup: int = 5) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def interleaved_ms(fns: dict[str, Callable[[], object]], n: int, warmup: int = 5) -> dict:
    """Time several variants in turns (a, b, c, a, b, c…), so that a burst of load from other
    work on the machine hits all of them alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(n):
        for name, fn in fns.items():
            started = time.perf_counter()
            fn()
            out[name].append((time.perf_counter() - started) * 1000)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def p50(values: list[float]) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(h) for h in headers]] + [
        [f"{c:.2f}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for i, row in enumerate(cells):
        print(
            "  ".join(
                c.ljust(w) if j == 0 else c.rjust(w)
                for j, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))
    sys.stdout.flush()


def goal(met: bool) -> str:
    return "goal met" if met else "GOAL NOT MET"
