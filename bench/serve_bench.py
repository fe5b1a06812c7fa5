#!/usr/bin/env python3
"""Page latency of the explorer (hollow-cli serve) while its consumer refreshes.

usage: bench/serve_bench.py --cli build/hollow-cli --bench build/hollow-bench
                            [--n 1000000] [--dir DIR] [--requests 400]
                            [--refresh-s 1.0]

Writes the Movies store of hollow-bench (`hollow-bench movies --out DIR`:
snapshot-1, delta-1-2, reversedelta-2-1; kept in DIR for later runs),
announces version 2 through the fs announcer's file, starts
`hollow-cli serve` on it, and times:

  - the first diff page of 1 -> 2 (the diff computed once),
  - record pages (`/type/Movie?key=K`, a random movie, and
    `/type/Movie?from=O&size=20`, a page of 20 deep records) and diff pages
    (`/diff?from=1&to=2&type=Movie&start=S&size=50`, from the kept diff),

one request at a time, while a thread flips the announced version between
2 and 1 every --refresh-s seconds, so the consumer applies a delta or a
reverse delta about once a second throughout. Prints p50/p99/max per page
kind, the refreshes seen, and the server's CPU time (from /proc).
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url):
    t0 = time.perf_counter()
    try:
        with OPENER.open(url, timeout=120) as r:
            body = r.read()
            st = r.status
    except urllib.error.HTTPError as e:
        body, st = e.read(), e.code
    return st, body, time.perf_counter() - t0


def announce(d, v):
    tmp = os.path.join(d, "announced.version.tmp")
    with open(tmp, "w") as f:
        f.write("%d" % v)
    os.rename(tmp, os.path.join(d, "announced.version"))


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--bench", required=True)
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--dir")
    ap.add_argument("--requests", type=int, default=400)
    ap.add_argument("--refresh-s", type=float, default=1.0)
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    d = a.dir or "/tmp/hollow-serve-bench-%d" % a.n
    if not os.path.exists(os.path.join(d, "reversedelta-2-1")):
        os.makedirs(d, exist_ok=True)
        print("writing the Movies store, N=%d, into %s" % (a.n, d), flush=True)
        subprocess.run([a.bench, "movies", "--n", str(a.n), "--lookups", "10",
                        "--out", d], check=True, stdout=subprocess.DEVNULL)
    announce(d, 2)
    srv = subprocess.Popen([a.cli, "serve", "--store", "fs", "--dir", d,
                            "--listen", "127.0.0.1:%d" % a.port],
                           stdout=subprocess.PIPE, text=True)
    try:
        line = srv.stdout.readline()
        base = "http://" + line.strip().rsplit("http://", 1)[1].rstrip("/")
        t0 = time.perf_counter()
        while True:
            st, body, _ = get(base + "/?format=json")
            if st == 200 and json.loads(body)["version"] == 2:
                break
            time.sleep(0.05)
        print("serve: version 2 loaded %.2f s after start"
              % (time.perf_counter() - t0))
        st, body, first_diff = get(base + "/diff?from=1&to=2&format=json")
        movie = [t for t in json.loads(body)["types"]
                 if t["type"] == "Movie"][0]
        nrec = movie["added"] + movie["removed"] + movie["changed"]
        print("diff 1 -> 2 computed once: %.1f ms (Movie: %d added, %d "
              "removed, %d changed)" % (first_diff * 1e3, movie["added"],
                                        movie["removed"], movie["changed"]))
        st, body, _ = get(base + "/?format=json")
        nmovies = [t for t in json.loads(body)["types"]
                   if t["name"] == "Movie"][0]["records"]

        stop = threading.Event()
        flips = [0]

        def refresher():
            v = 2
            while not stop.wait(a.refresh_s):
                v = 1 if v == 2 else 2
                announce(d, v)
                flips[0] += 1

        rnd = random.Random(42)
        lat = {"record by key": [], "record page (20 deep)": [],
               "diff page (50)": []}
        errors = 0
        seen = set()
        cpu0 = cpu_s(srv.pid)
        th = threading.Thread(target=refresher)
        th.start()
        w0 = time.perf_counter()
        for i in range(a.requests):
            k = i % 3
            if k == 0:
                # a movie both versions have (i % 200 not 0 or 100)
                j = rnd.randrange(a.n // 200) * 200 + 1 + rnd.randrange(99)
                url = "/type/Movie?key=%d" % (1000000000000 + 17 * j)
                kind = "record by key"
            elif k == 1:
                url = "/type/Movie?size=20&from=%d" % rnd.randrange(nmovies)
                kind = "record page (20 deep)"
            else:
                url = ("/diff?from=1&to=2&type=Movie&size=50&start=%d"
                       % rnd.randrange(max(1, nrec - 50)))
                kind = "diff page (50)"
            st, body, s = get(base + url)
            if st != 200:
                errors += 1
            lat[kind].append(s)
            if i % 20 == 0:
                st, body, _ = get(base + "/?format=json")
                seen.add(json.loads(body)["version"])
        wall = time.perf_counter() - w0
        stop.set()
        th.join()
        cpu = cpu_s(srv.pid) - cpu0
        print("%d requests in %.1f s wall, %d failed; %d announcements "
              "(versions seen %s); server CPU %.2f s"
              % (a.requests, wall, errors, flips[0], sorted(seen), cpu))
        for kind, xs in lat.items():
            print("%-22s n=%4d  p50 %6.1f ms  p99 %6.1f ms  max %6.1f ms"
                  % (kind, len(xs), pct(xs, 50) * 1e3, pct(xs, 99) * 1e3,
                     max(xs) * 1e3))
        return 1 if errors else 0
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=60)


if __name__ == "__main__":
    sys.exit(main())
