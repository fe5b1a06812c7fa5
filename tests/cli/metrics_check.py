#!/usr/bin/env python3
"""hollow_metrics_write()'s output through the Prometheus project's parser.

    metrics_check.py METRICS_ROUNDS

Runs examples/metrics_rounds (cycles and refreshes over a memory store, the
metrics of a consumer, a producer, an in-process announcer and the store
printed after each round) and parses every round with
prometheus_client.parser.text_string_to_metric_families (Debian
python3-prometheus-client). Checks the families and their types, the
histograms (cumulative buckets ending at +Inf == _count), and that the
counters never go down and the ones that must move do, round after round.
"""
import re
import subprocess
import sys

from prometheus_client.parser import text_string_to_metric_families

ROUNDS = 4

# family (as the parser names it: counters without _total) -> type
EXPECTED = {
    "hollow_consumer_version": "gauge",
    "hollow_consumer_version_info": "gauge",
    "hollow_consumer_refreshes": "counter",
    "hollow_consumer_refresh_failures": "counter",
    "hollow_consumer_refresh_duration_seconds": "histogram",
    "hollow_consumer_last_refresh_timestamp_seconds": "gauge",
    "hollow_consumer_state_bytes": "gauge",
    "hollow_consumer_records": "gauge",
    "hollow_consumer_type_records": "gauge",
    "hollow_consumer_type_bytes": "gauge",
    "hollow_producer_version": "gauge",
    "hollow_producer_version_info": "gauge",
    "hollow_producer_primary": "gauge",
    "hollow_producer_cycles": "counter",
    "hollow_producer_cycles_published": "counter",
    "hollow_producer_cycle_failures": "counter",
    "hollow_producer_validation_failures": "counter",
    "hollow_producer_integrity_failures": "counter",
    "hollow_producer_cycle_duration_seconds": "histogram",
    "hollow_producer_blobs": "counter",
    "hollow_producer_blob_bytes": "counter",
    "hollow_announcer_subscribers": "gauge",
    "hollow_announcer_announcements": "counter",
    "hollow_announcer_dropped": "counter",
    "hollow_announcer_delivered": "counter",
    "hollow_announcer_lost": "counter",
    "hollow_announcer_subscribers_removed": "counter",
    "hollow_announcer_queue_depth": "gauge",
    "hollow_announcer_latest_version": "gauge",
    "hollow_announcer_pinned": "gauge",
    "hollow_blobstore_gets": "counter",
    "hollow_blobstore_cache_hits": "counter",
    "hollow_blobstore_cache_misses": "counter",
    "hollow_blobstore_read_bytes": "counter",
    "hollow_blobstore_uploads": "counter",
    "hollow_blobstore_written_bytes": "counter",
    "hollow_blobstore_upload_retries": "counter",
    "hollow_blobstore_pending_uploads": "gauge",
    "hollow_blobstore_pending_upload_bytes": "gauge",
}

# counters (sums over their labels) that every round must raise
MUST_RISE = [
    "hollow_consumer_refreshes_total",
    "hollow_consumer_refresh_duration_seconds_count",
    "hollow_producer_cycles_total",
    "hollow_producer_cycles_published_total",
    "hollow_producer_cycle_duration_seconds_count",
    "hollow_producer_blob_bytes_total",
    "hollow_announcer_announcements_total",
    "hollow_blobstore_gets_total",
    "hollow_blobstore_uploads_total",
]

NAME = re.compile(r"^hollow_[a-z_]+$")
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL: " + msg)


def parse(text, where):
    """{family: (type, [samples])} of one round"""
    out = {}
    for fam in text_string_to_metric_families(text):
        if fam.name in out:
            fail(f"{where}: family {fam.name} twice")
        out[fam.name] = (fam.type, fam.samples)
    return out


def check_round(fams, where):
    for name, typ in EXPECTED.items():
        if name not in fams:
            fail(f"{where}: no family {name}")
        elif fams[name][0] != typ:
            fail(f"{where}: {name} is a {fams[name][0]}, not a {typ}")
    for name, (typ, samples) in fams.items():
        if not NAME.match(name):
            fail(f"{where}: bad name {name}")
        for s in samples:
            if typ == "counter" and not s.name.endswith("_total"):
                fail(f"{where}: counter sample {s.name} without _total")
            if s.value < 0:
                fail(f"{where}: {s.name} {s.labels} is negative")
        if typ == "histogram":
            buckets = [s for s in samples if s.name == name + "_bucket"]
            count = [s.value for s in samples if s.name == name + "_count"]
            les = [s.labels["le"] for s in buckets]
            if les[-1] != "+Inf" or len(count) != 1:
                fail(f"{where}: {name} has no +Inf bucket or no _count")
                continue
            values = [s.value for s in buckets]
            bounds = [float(le) for le in les]
            if values != sorted(values) or bounds != sorted(bounds):
                fail(f"{where}: {name} buckets not cumulative: {values}")
            if values[-1] != count[0]:
                fail(f"{where}: {name} +Inf {values[-1]} != _count {count[0]}")
    # the exact version is in the info gauge's label
    for who in ("consumer", "producer"):
        info = fams[f"hollow_{who}_version_info"][1]
        gauge = fams[f"hollow_{who}_version"][1][0].value
        if len(info) != 1 or abs(float(info[0].labels["version"]) - gauge) > 1e3:
            fail(f"{where}: {who} version {gauge} vs info {info}")
    types = {s.labels["type"] for s in fams["hollow_consumer_type_records"][1]}
    if "Movie" not in types:
        fail(f"{where}: no Movie in the per-type gauges: {types}")


def totals(fams):
    """every counter sample (and histogram _count/_sum) by name+labels"""
    out = {}
    for name, (typ, samples) in fams.items():
        if typ not in ("counter", "histogram"):
            continue
        for s in samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def summed(tot, name):
    return sum(v for (n, _), v in tot.items() if n == name)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    # the parser is strict: a broken line must not pass (else this test
    # would prove nothing)
    try:
        list(text_string_to_metric_families('hollow_x{le="1} 2\n'))
        fail("the parser accepted a broken line")
    except ValueError:
        pass
    out = subprocess.run([sys.argv[1], str(ROUNDS), "500"], check=True,
                         capture_output=True, text=True).stdout
    rounds = re.split(r"^# round \d+\n", out, flags=re.M)[1:]
    if len(rounds) != ROUNDS:
        fail(f"{len(rounds)} rounds printed, not {ROUNDS}")
    prev = None
    for i, text in enumerate(rounds, 1):
        where = f"round {i}"
        fams = parse(text, where)
        check_round(fams, where)
        tot = totals(fams)
        if prev is not None:
            for key, v in prev.items():
                if tot.get(key, -1) < v:
                    fail(f"{where}: {key} went down: {v} -> {tot.get(key)}")
            for name in MUST_RISE:
                if summed(tot, name) <= summed(prev, name):
                    fail(f"{where}: {name} did not rise: {summed(prev, name)}")
        if i >= 3:
            back = tot[("hollow_consumer_refreshes_total",
                        (("kind", "reverse_delta"),))]
            if back < 1:
                fail(f"{where}: no reverse delta refresh counted")
        prev = tot
    print(f"{len(rounds)} rounds parsed, {len(EXPECTED)} families each"
          if failures == 0 else f"{failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
