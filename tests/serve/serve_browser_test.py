#!/usr/bin/env python3
"""The explorer (hollow-cli serve) in a real headless Chromium.

Usage: serve_browser_test.py HOLLOW_CLI HOLLOW_BENCH SOURCE_DIR ARTIFACT_DIR

A Movies store (hollow-bench's generator, N=300, plus a movie whose title
is `<script>alert(1)</script>`) is produced into an fs store with
`hollow-cli produce`; `hollow-cli serve` follows it; Chromium is driven
through chromedriver's W3C WebDriver over plain HTTP (urllib). Each page
is opened, its DOM checked, a screenshot saved in ARTIFACT_DIR. While the
browser has the Types page open, new versions are produced and a client
thread keeps requesting pages: every request must succeed, and the Types
page shows the newest version on reload. /metrics must parse with the
Prometheus client's own parser.
"""
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

CLI, BENCH, SRC, ART = sys.argv[1:5]
TMP = tempfile.mkdtemp(prefix="hollow-serve-test-")
STORE = os.path.join(TMP, "store")
SCHEMA = os.path.join(SRC, "cli", "produce", "movies_bench.hollow")
XSS = "<script>alert(1)</script>"
XSS_ID = 7
failures = []
procs = []
# loopback only: no proxy may take these requests
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def request(method, url, body=None, headers=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with OPENER.open(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


def produce(data_file):
    out = subprocess.run([CLI, "produce", "--store", "fs", "--dir", STORE,
                          "--schema", SCHEMA, "--data", data_file],
                         capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise SystemExit("produce failed: " + out.stderr)
    return int(out.stdout.strip())


def write_version(path, lines, xss_title):
    with open(path, "w") as f:
        f.write(json.dumps({"id": XSS_ID, "title": xss_title, "year": 2001,
                            "genres": [], "actors": [], "ratings": []}) + "\n")
        f.writelines(lines)


# ------------------------------------------------------------ WebDriver
class Browser:
    ELEM = "element-6066-11e4-a52e-4f735466cecf"

    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["chromedriver", "--port=%d" % self.port,
             "--allowed-ips=127.0.0.1"], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        procs.append(self.proc)
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(100):
            try:
                if request("GET", self.base + "/status", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        profile = os.path.join(TMP, "profile")
        args = ["--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--no-first-run", "--user-data-dir=" + profile,
                "--window-size=1200,900"]
        st, body, _ = request("POST", self.base + "/session", {
            "capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": "/usr/bin/chromium",
                                       "args": args}}}}, timeout=60)
        if st != 200:
            raise SystemExit("no WebDriver session: %s" % body[:500])
        self.sid = json.loads(body)["value"]["sessionId"]
        self.url = self.base + "/session/" + self.sid

    def cmd(self, method, path, body=None):
        st, data, _ = request(method, self.url + path, body, timeout=60)
        v = json.loads(data)["value"] if data else None
        if st != 200 or (isinstance(v, dict) and "error" in v):
            raise RuntimeError("%s %s: %s" % (method, path, v))
        return v

    def get(self, url):
        self.cmd("POST", "/url", {"url": url})

    def find(self, css):
        v = self.cmd("POST", "/element", {"using": "css selector",
                                           "value": css})
        if not isinstance(v, dict) or self.ELEM not in v:
            raise RuntimeError("no element %s: %r" % (css, v))
        return v[self.ELEM]

    def text(self, css):
        return self.cmd("GET", "/element/%s/text" % self.find(css))

    def click(self, css):
        self.cmd("POST", "/element/%s/click" % self.find(css), {})

    def type(self, css, text):
        e = self.find(css)
        self.cmd("POST", "/element/%s/clear" % e, {})
        self.cmd("POST", "/element/%s/value" % e, {"text": text})

    def js(self, script):
        return self.cmd("POST", "/execute/sync", {"script": script,
                                                  "args": []})

    def wait(self, script, timeout=10):
        """until the JS expression is true (a click's navigation)"""
        end = time.time() + timeout
        while time.time() < end:
            if self.js("return !!(" + script + ")"):
                return True
            time.sleep(0.05)
        return False

    def shot(self, name):
        png = base64.b64decode(self.cmd("GET", "/screenshot"))
        with open(os.path.join(ART, name + ".png"), "wb") as f:
            f.write(png)
        return len(png)

    def close(self):
        try:
            request("DELETE", self.url, timeout=30)
        except OSError:
            pass


def main():
    os.makedirs(ART, exist_ok=True)
    for tool in ("chromium", "chromedriver"):
        if shutil.which(tool) is None:
            raise SystemExit("%s is not installed (scripts/install-deps.sh)"
                             % tool)
    from prometheus_client.parser import text_string_to_metric_families

    # the data: Movies N=300, version 1 and the dataset's version 2
    v1l, v2l = os.path.join(TMP, "v1.jsonl"), os.path.join(TMP, "v2.jsonl")
    subprocess.run([BENCH, "movies", "--n", "300", "--jsonl", v1l,
                    "--jsonl2", v2l, "--gen-only"], check=True,
                   stdout=subprocess.DEVNULL, timeout=60)
    lines1 = open(v1l).readlines()
    lines2 = open(v2l).readlines()
    d1, d2 = os.path.join(TMP, "d1.jsonl"), os.path.join(TMP, "d2.jsonl")
    write_version(d1, lines1, XSS)
    write_version(d2, lines2, XSS)
    ver1 = produce(d1)
    ver2 = produce(d2)

    port = free_port()
    serve = subprocess.Popen([CLI, "serve", "--store", "fs", "--dir", STORE,
                              "--listen", "127.0.0.1:%d" % port],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    procs.append(serve)
    line = serve.stdout.readline()
    check("127.0.0.1:%d" % port in line, "serve prints its address: " +
          line.strip())
    base = "http://127.0.0.1:%d" % port
    for _ in range(100):  # the watcher's first refresh
        st, body, _ = request("GET", base + "/?format=json")
        if st == 200 and json.loads(body)["version"] == ver2:
            break
        time.sleep(0.1)
    b = Browser()
    try:
        # Types
        b.get(base + "/")
        check(b.text("#version") == str(ver2), "Types shows version %d" % ver2)
        types = b.text("#types")
        check("Movie" in types and "SetOfActor" in types,
              "Types lists Movie and SetOfActor")
        b.shot("types")

        # Records: a page of Movie, deep; follow a reference to an Actor
        b.get(base + "/type/Movie?size=5")
        check(b.text("#total") == str(len(lines2) + 1),
              "Movie page counts %d records" % (len(lines2) + 1))
        n_rec = b.js("return document.querySelectorAll('section.record')"
                     ".length")
        check(n_rec == 5, "a page of 5 records (got %s)" % n_rec)
        b.shot("records")
        href = b.js("var a = document.querySelector('a.ref[href^=\"/type/"
                    "Actor/\"]'); return a ? a.getAttribute('href') : null")
        check(href is not None, "a Movie links to an Actor")
        if href:
            b.click('a.ref[href="%s"]' % href)
            b.wait("location.pathname === '%s' && "
                   "document.readyState === 'complete'" % href)
            check(b.js("return location.pathname") == href,
                  "following the reference opens " + href)
            name = b.text('td[data-field="name"]')
            check(len(name) > 1, "the Actor page shows a name: " + name)
            b.shot("actor")

        # lookup by primary key through the form
        key = str(1000000000000 + 17 * 5)
        b.get(base + "/type/Movie")
        b.type("#key", key)
        b.click("#lookup")
        b.wait("location.search.indexOf('key=%s') >= 0 && "
               "document.readyState === 'complete'" % key)
        got = b.text('section.record td[data-field="id"]')
        check(got == key and "key=" + key in b.js("return location.search"),
              "the key lookup finds movie %s (got %s)" % (key, got))
        b.shot("lookup")

        # a title that is HTML renders as text, and no script runs
        b.get(base + "/type/Movie?key=%d" % XSS_ID)
        title = b.js("return document.querySelector('td[data-field=\"title\"]"
                     " .str').textContent")
        check(title == XSS, "the <script> title is shown as text")
        check(b.js("return document.querySelectorAll('main script').length")
              == 0, "no script element inside the page's content")
        b.shot("xss")

        # Diff of version 1 and 2: the remastered movie's new title
        remastered = 1000000000000 + 17 * 100
        b.get(base + "/diff?from=%d&to=%d&type=Movie&size=200" % (ver1, ver2))
        counts = b.text("#diff-types")
        check("Movie" in counts, "the diff lists Movie")
        recs = b.text("#diff-records")
        check("id=%d" % remastered in recs and "(Remastered)" in recs,
              "the diff shows movie %d's changed title" % remastered)
        b.shot("diff")
        st, body, _ = request("GET", base + "/diff?from=%d&to=%d&type=Movie"
                           "&format=json&size=200" % (ver1, ver2))
        dj = json.loads(body)
        movie = [t for t in dj["types"] if t["type"] == "Movie"][0]
        check(movie["changed"] == len(lines1) // 200 and movie["added"] ==
              len(lines1) // 200, "diff JSON counts (%s)" % movie)

        # History of the changed movie
        b.get(base + "/history/Movie?key=%d" % remastered)
        hist = b.text("#history")
        check(str(ver2) in hist and "changed" in hist and
              "(Remastered)" in hist, "the history shows the change at %d"
              % ver2)
        b.shot("history")
        st, body, _ = request("GET", base + "/history/Movie?key=%d&format=json"
                              % remastered)
        hj = json.loads(body)
        fields = [f for c in hj["changes"] if c["kind"] == "changed"
                  for f in c["fields"]]
        title = [f["new"] for f in fields if f["path"] == "title"]
        years = [f["old"] for f in fields if f["path"] == "year"]
        check(st == 200 and len(title) == 1 and
              title[0].endswith("(Remastered)") and
              all(isinstance(y, int) for y in years),
              "history JSON gives values, not their text (%s)" % fields)

        # Versions
        b.get(base + "/versions")
        check(b.text("#current") == str(ver2), "Versions: current")
        rows = b.js("return document.querySelectorAll('#versions tr"
                    "[data-version]').length")
        check(rows == 2, "Versions lists 2 versions")
        b.shot("versions")
        st, _, _ = request("POST", base + "/pin?version=%d" % ver1)
        check(st == 403, "pin is refused without --allow-pin (%d)" % st)

        # JSON by Accept, errors, bounds
        st, body, hdr = request("GET", base + "/type/Movie?size=2",
                             headers={"Accept": "application/json"})
        check(st == 200 and hdr["Content-Type"] == "application/json" and
              len(json.loads(body)["records"]) == 2, "Accept: JSON")
        for path, want in (("/type/Nope", 404), ("/type/Movie?size=100000",
                           400), ("/type/Movie?key=abc", 400),
                           ("/type/Movie/99999999", 404),
                           ("/type/..%2F..%2Fetc%2Fpasswd", 404),
                           ("/diff?from=1&to=2", 404),
                           ("/diff?from=abc&to=1", 400),
                           ("/type/Movie?key=" + "9" * 2000, 400),
                           ("/type/Movie?key=%ff%fe", 400),
                           ("/type/Movie?from=-1", 400),
                           ("/type/Movie?path=nope&value=1", 400),
                           ("/history/Movie?key=1&depth=100000", 400),
                           ("/history/Movie", 400), ("/nope", 404)):
            st, _, _ = request("GET", base + path)
            check(st == want, "%s answers %d (got %d)" % (path, want, st))

        st, _, _ = request("POST", base + "/type/Movie")
        check(st == 405, "POST /type/Movie answers 405 (got %d)" % st)
        st, body, _ = request("GET", base + "/history/Movie?key=424242")
        check(st == 200 and b"no such record" in body,
              "the history of an absent key says so")

        # new versions while the browser is open and a client keeps asking
        b.get(base + "/")
        stop = threading.Event()
        errors, done = [], [0]

        def client():
            paths = ["/", "/type/Movie?size=20", "/type/Movie?key=%d"
                     % remastered, "/versions", "/?format=json"]
            i = 0
            while not stop.is_set():
                st, body, _ = request("GET", base + paths[i % len(paths)])
                if st != 200:
                    errors.append((paths[i % len(paths)], st, body[:200]))
                done[0] += 1
                i += 1

        # slow clients: three that never finish their request, three that
        # ask for a big page and never read it; none may hold up a refresh
        slow = []
        for k in range(6):
            sk = socket.create_connection(("127.0.0.1", port))
            sk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            if k < 3:
                sk.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            else:
                sk.sendall(b"GET /type/Movie?size=200 HTTP/1.1\r\n"
                           b"Host: x\r\n\r\n")
            slow.append(sk)
        th = threading.Thread(target=client)
        th.start()
        latest = ver2
        for k in range(3):
            # each version retitles a few movies
            lines = [l.replace('"title":"', '"title":"v%d ' % k, 1)
                     if j % 50 == 0 else l for j, l in enumerate(lines2)]
            dk = os.path.join(TMP, "d%d.jsonl" % (k + 3))
            write_version(dk, lines, XSS)
            latest = produce(dk)
        for _ in range(100):
            st, body, _ = request("GET", base + "/?format=json")
            if json.loads(body)["version"] == latest:
                break
            time.sleep(0.1)
        stop.set()
        th.join()
        for sk in slow:
            sk.close()
        check(not errors and done[0] > 10, "%d requests during 3 refreshes, "
              "%d failed %s" % (done[0], len(errors), errors[:2]))
        b.cmd("POST", "/refresh", {})
        check(b.text("#version") == str(latest),
              "Types shows the new version %d on reload" % latest)
        b.shot("types-after")

        # the diff of the two newest is computed once and cached: the
        # second request is much faster than the first
        t0 = time.time()
        st, _, _ = request("GET", base + "/diff?from=%d&to=%d&format=json"
                        % (ver1, latest))
        t1 = time.time()
        st2, _, _ = request("GET", base + "/diff?from=%d&to=%d&format=json"
                         % (ver1, latest))
        t2 = time.time()
        check(st == 200 and st2 == 200, "diff %d..%d" % (ver1, latest))
        print("     diff first %.1f ms, cached %.1f ms"
              % ((t1 - t0) * 1e3, (t2 - t1) * 1e3))

        # /metrics parses with the Prometheus client's parser, and its
        # counters moved with the refreshes
        st, body, hdr = request("GET", base + "/metrics")
        fams = {f.name: f for f in
                text_string_to_metric_families(body.decode())}
        check(st == 200 and hdr["Content-Type"].startswith("text/plain"),
              "/metrics answers text/plain")
        for name in ("hollow_consumer_refreshes", "hollow_consumer_records",
                     "hollow_consumer_refresh_duration_seconds",
                     "hollow_blobstore_gets", "hollow_serve_requests"):
            check(name in fams, "/metrics has %s" % name)

        def refreshes(fams):
            return sum(x.value for x in
                       fams["hollow_consumer_refreshes"].samples
                       if x.name.endswith("_total"))
        before = refreshes(fams)
        check(before >= 4, "refreshes counted so far: %s" % before)
        write_version(os.path.join(TMP, "d9.jsonl"), lines1, XSS)
        newest = produce(os.path.join(TMP, "d9.jsonl"))
        for _ in range(100):
            st, body, _ = request("GET", base + "/?format=json")
            if json.loads(body)["version"] == newest:
                break
            time.sleep(0.1)
        fams = {f.name: f for f in text_string_to_metric_families(
            request("GET", base + "/metrics")[1].decode())}
        check(refreshes(fams) == before + 1, "one more refresh counted "
              "(%s -> %s)" % (before, refreshes(fams)))
        movies = [x.value for x in fams["hollow_consumer_type_records"].samples
                  if x.labels.get("type") == "Movie"]
        check(movies == [len(lines1) + 1], "/metrics Movie records %s"
              % movies)

        # --allow-pin: a second server, pinned and unpinned over HTTP
        port2 = free_port()
        srv2 = subprocess.Popen([CLI, "serve", "--store", "fs", "--dir",
                                 STORE, "--allow-pin", "--listen",
                                 "127.0.0.1:%d" % port2],
                                stdout=subprocess.PIPE, text=True)
        procs.append(srv2)
        srv2.stdout.readline()
        base2 = "http://127.0.0.1:%d" % port2
        st, body, _ = request("POST", base2 + "/pin?version=%d&format=json"
                           % ver1)
        pj = json.loads(body)
        check(st == 200 and pj["pinned"] == ver1 and pj["current"] == ver1,
              "--allow-pin: pinned to %d (%s)" % (ver1, pj))
        vj = json.loads(request("GET", base2 + "/versions?format=json")[1])
        check(vj["pinned"] == ver1 and vj["current"] == ver1 and
              vj["announced"] == newest, "Versions shows the pin")
        conn = http.client.HTTPConnection("127.0.0.1", port2, timeout=30)
        conn.request("POST", "/unpin")  # as the form does; not redirected
        resp = conn.getresponse()
        st, loc = resp.status, resp.getheader("Location")
        conn.close()
        check(st == 303 and loc == "/versions",
              "unpin redirects to /versions (%d)" % st)
        for _ in range(100):
            vj = json.loads(request("GET", base2 + "/versions?format=json")[1])
            if vj["current"] == newest:
                break
            time.sleep(0.1)
        check(vj["pinned"] is None and vj["current"] == newest,
              "after unpin it follows the announced version again")
        st, _, _ = request("POST", base2 + "/pin?version=12345")
        check(st == 404, "pinning a version the store lacks answers 404 "
              "(%d)" % st)
    finally:
        b.close()


try:
    main()
except Exception as e:  # noqa: BLE001 - any failure fails the test
    failures.append("exception: %r" % (e,))
    print("FAIL exception: %r" % (e,))
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    for p in procs:
        if p.args[1] == "serve" and p.returncode != 0:
            failures.append("serve exited with %s" % p.returncode)
    shutil.rmtree(TMP, ignore_errors=True)

print("%d failed" % len(failures))
sys.exit(1 if failures else 0)
