"""Settings of the benchmarks: the project's, with the benchmark-only URLs on top (the floor
and naive variants live under ``/bench/``, never in production URLs), no debug bookkeeping
(``DEBUG`` keeps every SQL query in memory) and rate limits out of the way of a few thousand
requests a minute. Throttling itself still runs: it is part of the stack being measured."""

from crm.settings import *  # noqa: F403
from crm.settings import API_THROTTLE_RATES

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
API_THROTTLE_RATES = {name: "10000000/min" for name in API_THROTTLE_RATES}
LOGGING_CONFIG = None  # no "Task succeeded" / request lines in the tables
