#!/usr/bin/env python3
"""hollow-cli inspect (issue 16 item 3), consume --json and the new-user
fixes of item 7 (consume --type of an absent type, piped input, the reason
a file cannot be read, too-large versions).

Over every golden vector directory (a filesystem store Java wrote), the
values are checked against the directory itself and the vectors' manifest
and expected dumps, never against numbers written here: the versions, the
announced version, each blob and its size, the plan to each version; per
version its tags, randomized tag, and per type kind, shards, records and
sample records; every blob file of every kind through `inspect FILE`.
Then the demo store (examples/producer_consumer), stores with a missing
snapshot (broken links), and the error paths.

usage: inspect_tests.py HOLLOW_CLI TESTS_DIR PRODUCER_CONSUMER
Prints 'N passed, M failed'; exit 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

cli, tests, producer_consumer = sys.argv[1], sys.argv[2], sys.argv[3]
golden = os.path.join(tests, "golden")
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)
    return ok


def run(*args, stdin=None, input_bytes=None):
    p = subprocess.run([cli] + list(args), stdin=stdin, input=input_bytes,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), \
        p.stderr.decode("utf-8", "replace")


def run_json(*args, **kw):
    rc, out, err = run(*args, **kw)
    if not check(rc == 0, "%s: exit %d: %s" % (" ".join(args), rc, err.strip())):
        return None
    try:
        return json.loads(out)
    except ValueError as e:
        check(False, "%s: not JSON (%s): %s" % (" ".join(args), e, out[:200]))
        return None


def blob_key(name):
    """(kind, version it leads to, from) of a blob file name, else None"""
    parts = name.split("-")
    try:
        if parts[0] in ("snapshot", "header") and len(parts) == 2:
            return parts[0], int(parts[1]), None
        if parts[0] in ("delta", "reversedelta") and len(parts) == 3:
            kind = "delta" if parts[0] == "delta" else "reverse_delta"
            return kind, int(parts[2]), int(parts[1])
    except ValueError:
        pass
    return None


def canon(v):
    return json.dumps(v, sort_keys=True)


def expected_dump(d, version):
    p = os.path.join(d, "expected", "%d.json" % version)
    return json.load(open(p)) if os.path.isfile(p) else None


def check_store_overview(d, doc, versions, announced, where):
    """the overview JSON against the directory's own listing"""
    if doc is None:
        return
    files = [f for f in os.listdir(d) if blob_key(f)]
    check([v["version"] for v in doc["versions"]] == versions,
          "%s: versions %s, want %s" % (where, [v["version"] for v in doc["versions"]],
                                        versions))
    check(doc["announced"] == announced, "%s: announced %s, want %s"
          % (where, doc["announced"], announced))
    check(doc["pinned"] is None, "%s: pinned %s" % (where, doc["pinned"]))
    listed = {}
    for v in doc["versions"]:
        for b in v["blobs"]:
            listed[b["name"]] = (v["version"], b)
    check(sorted(listed) == sorted(files), "%s: blobs %s, want %s"
          % (where, sorted(listed), sorted(files)))
    for f in files:
        if f not in listed:
            continue
        kind, to, frm = blob_key(f)
        v, b = listed[f]
        check(v == to and b["kind"] == kind and b["from"] == frm
              and b["size"] == os.path.getsize(os.path.join(d, f)),
              "%s: blob %s listed as %s under %d" % (where, f, b, v))
    snaps = sorted(blob_key(f)[1] for f in files if f.startswith("snapshot-"))
    for v in doc["versions"]:
        ver = v["version"]
        plan = v["plan"] or []
        check(v["reachable"] and plan and plan[0].startswith("snapshot-"),
              "%s: version %d plan %s (%s)" % (where, ver, plan, v["error"]))
        if ver in snaps:
            check(plan == ["snapshot-%d" % ver], "%s: version %d has a snapshot, "
                  "plan %s" % (where, ver, plan))
        # the plan is a chain: each step starts where the last one ended
        at = blob_key(plan[0])[1] if plan else None
        for step in plan[1:]:
            kind, to, frm = blob_key(step)
            check(frm == at, "%s: plan %s breaks at %s" % (where, plan, step))
            at = to
        check(at == ver, "%s: plan %s ends at %s, not %d" % (where, plan, at, ver))
        check(v["announced"] == (ver == announced), "%s: %d announced flag" % (where, ver))
    check(doc["broken"] == [], "%s: broken links %s" % (where, doc["broken"]))
    check(doc["reachable"] == len(versions) and doc["unreachable"] == 0,
          "%s: reachable %s" % (where, doc["reachable"]))


def check_version_doc(doc, exp, where):
    """inspect --version V --json against the expected dump of V"""
    if doc is None or exp is None:
        return
    check(doc["tags"] == exp["headerTags"], "%s: tags %s, want %s"
          % (where, doc["tags"], exp["headerTags"]))
    check(doc["randomized_tag"] == exp["randomizedTag"], "%s: randomized tag" % where)
    got = {t["name"]: t for t in doc["types"]}
    want = {t["name"]: t for t in exp["types"]}
    check(sorted(got) == sorted(want), "%s: types %s, want %s"
          % (where, sorted(got), sorted(want)))
    for name, t in want.items():
        g = got.get(name)
        if g is None:
            continue
        check(g["kind"] == t["kind"] and g["shards"] == t["numShards"]
              and g["records"] == t["count"],
              "%s: type %s kind/shards/records %s/%s/%s, want %s/%s/%s"
              % (where, name, g["kind"], g["shards"], g["records"], t["kind"],
                 t["numShards"], t["count"]))
        records = {r[0]: canon(r[1]) for r in t["records"]}
        for o, rec in g["sample"]:
            check(records.get(o) == canon(rec), "%s: %s record %d is %s, want %s"
                  % (where, name, o, canon(rec)[:80], str(records.get(o))[:80]))
        check(len(g["sample"]) == min(2, t["count"]), "%s: %s sample of %d"
              % (where, name, len(g["sample"])))
        check(g["memory"] > 0 or t["count"] == 0, "%s: %s memory" % (where, name))


def counts(exp):
    return {t["name"]: t["count"] for t in exp["types"]} if exp else None


def check_file_doc(d, f, doc, where):
    """inspect FILE --json against the expected dumps of its versions"""
    if doc is None:
        return
    kind, to, frm = blob_key(f)
    check(doc["kind"] == kind, "%s: kind %s, want %s" % (where, doc["kind"], kind))
    check(doc["size"] == os.path.getsize(os.path.join(d, f)), "%s: size" % where)
    exp = expected_dump(d, to)
    if exp is not None:
        check(doc["tags"] == exp["headerTags"], "%s: tags" % where)
        check(doc["destination_tag"] == exp["randomizedTag"], "%s: destination tag"
              % where)
    if kind == "header":
        if exp is not None:
            check(doc["type_count"] == len(exp["types"]) and
                  sorted(s["name"] for s in doc["schemas"]) ==
                  sorted(t["name"] for t in exp["types"]) and doc["types"] == [],
                  "%s: header types %s" % (where, doc["schemas"]))
    elif kind == "snapshot":
        if exp is not None:
            want = {t["name"]: t for t in exp["types"]}
            for t in doc["types"]:
                w = want.get(t["name"])
                check(w is not None and t["records"] == w["count"] and
                      t["shards"] == w["numShards"] and t["kind"] == w["kind"],
                      "%s: type %s" % (where, t["name"]))
                records = {r[0]: canon(r[1]) for r in w["records"]} if w else {}
                for o, rec in t.get("sample", []):
                    check(records.get(o) == canon(rec), "%s: %s record %d"
                          % (where, t["name"], o))
            check(len(doc["types"]) == len(exp["types"]), "%s: type count" % where)
    else:
        # records after = before - removed + added, per changed type
        before, after = counts(expected_dump(d, frm)), counts(exp)
        prev = expected_dump(d, frm)
        if prev is not None:
            check(doc["origin_tag"] == prev["randomizedTag"], "%s: origin tag" % where)
        if before is not None and after is not None:
            for t in doc["types"]:
                n = t["name"]
                check(before.get(n, 0) - t["removed"] + t["added"] == after.get(n, 0),
                      "%s: type %s %d - %d + %d != %d" % (where, n, before.get(n, 0),
                                                         t["removed"], t["added"],
                                                         after.get(n, 0)))
    offsets = [(t["offset"], t["bytes"]) for t in doc["types"]]
    if offsets:
        check(offsets[-1][0] + offsets[-1][1] == doc["size"], "%s: sections end "
              "the blob" % where)


# ------------------------------------------------ every golden directory
scenarios = sorted(s for s in os.listdir(golden)
                   if os.path.isfile(os.path.join(golden, s, "manifest.json")))
check(len(scenarios) >= 7, "golden scenarios: %s" % scenarios)
for s in scenarios:
    d = os.path.join(golden, s)
    m = json.load(open(os.path.join(d, "manifest.json")))
    announced = int(open(os.path.join(d, "announced.version")).read().strip())
    versions = m["versions"]
    doc = run_json("inspect", "--dir", d, "--json", "--verbose")
    check_store_overview(d, doc, versions, announced, s)
    for v in versions:
        vd = run_json("inspect", "--dir", d, "--version", str(v), "--json",
                      "--records", "2")
        check_version_doc(vd, expected_dump(d, v), "%s version %d" % (s, v))
    # -version=0: the announced version, as the Go tool's flag
    rc, out, err = run("inspect", "-dir=" + d, "-version=0")
    check(rc == 0 and out.startswith("version %d (announced)\n" % announced),
          "%s -version=0: %s" % (s, (out + err)[:200]))
    for f in sorted(os.listdir(d)):
        if blob_key(f) is None:
            continue
        fd = run_json("inspect", "--json", "--records", "2", os.path.join(d, f))
        check_file_doc(d, f, fd, "%s/%s" % (s, f))
    # text output: the kind, the file and one line per type section
    for f in sorted(os.listdir(d)):
        k = blob_key(f)
        if k is None or k[0] == "header":
            continue
        rc, out, err = run("inspect", "--records", "0", os.path.join(d, f))
        lines = out.splitlines()
        word = {"snapshot": "snapshot ", "delta": "delta ",
                "reverse_delta": "reverse delta "}[k[0]]
        check(rc == 0 and lines and lines[0].startswith(word + os.path.join(d, f)),
              "%s/%s text: %s" % (s, f, (out + err)[:120]))
        break

# a blob of each kind from a pipe: read whole, never called truncated
a = os.path.join(golden, "a_primitives")
for f in ("snapshot-20250101000000002", "delta-20250101000000001-20250101000000002",
          "reversedelta-20250101000000002-20250101000000001",
          "header-20250101000000002"):
    data = open(os.path.join(a, f), "rb").read()
    want = run_json("inspect", "--json", os.path.join(a, f))
    for args in (["inspect", "--json", "-"], ["inspect", "--json", "/dev/stdin"]):
        kind = []
        if f.startswith("reverse"):
            kind = ["--kind", "reverse-delta"]  # the bytes are a delta's
        got = run_json(*(args[:2] + kind + args[2:]), input_bytes=data)
        if got is not None and want is not None:
            got.pop("file")
            w = dict(want)
            w.pop("file")
            check(got == w, "%s piped through %s differs" % (f, args[-1]))
rc, out, err = run("dump", "-", input_bytes=open(
    os.path.join(a, "snapshot-20250101000000001"), "rb").read())
check(rc == 0 and out == open(os.path.join(a, "expected",
                                           "20250101000000001.json")).read(),
      "dump - of a piped snapshot: %s" % err)
rc, out, err = run("dump", os.path.join(a, "snapshot-20250101000000001"), "-",
                   input_bytes=open(os.path.join(
                       a, "delta-20250101000000001-20250101000000002"), "rb").read())
check(rc == 0 and out == open(os.path.join(a, "expected",
                                           "20250101000000002.json")).read(),
      "dump SNAPSHOT - with a piped delta: %s" % err)
rc, out, err = run("dump", "/dev/stdin", input_bytes=open(
    os.path.join(a, "snapshot-20250101000000001"), "rb").read())
check(rc == 0 and "truncated" not in err, "dump /dev/stdin from a pipe: %s" % err)

tmp = tempfile.mkdtemp()
try:
    # ------------------------------------------------- the demo store
    demo = os.path.join(tmp, "demo")
    p = subprocess.run([producer_consumer, demo, "1000"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    check(p.returncode == 0, "producer_consumer: %s" % p.stderr[-300:])
    names = [f for f in os.listdir(demo) if blob_key(f)]
    vs = sorted({blob_key(f)[1] for f in names} |
                {blob_key(f)[2] for f in names if blob_key(f)[2]})
    ann = None
    if os.path.isfile(os.path.join(demo, "announced.version")):
        ann = int(open(os.path.join(demo, "announced.version")).read())
    doc = run_json("inspect", "--store", "fs", "--dir", demo, "--json")
    check(len(vs) >= 3, "demo versions %s" % vs)
    check_store_overview(demo, doc, vs, ann, "demo")
    latest = run_json("inspect", "--dir", demo, "--version", "0", "--json")
    consumed = run_json("consume", "--dir", demo, "--json")
    if latest is not None and consumed is not None:
        check(latest["version"] == consumed["version"] == vs[-1],
              "demo latest %s, consume %s" % (latest["version"], consumed["version"]))
        check({t["name"]: t["records"] for t in latest["types"]} == consumed["types"],
              "demo per-type records differ from consume's")
    for v in vs:
        one = run_json("inspect", "--dir", demo, "--version", str(v), "--json")
        c1 = run_json("consume", "--dir", demo, "--version", str(v), "--json")
        if one is not None and c1 is not None:
            check({t["name"]: t["records"] for t in one["types"]} == c1["types"],
                  "demo version %d records differ from consume's" % v)
    rc, out, err = run("inspect", "--dir", demo)
    check(rc == 0 and "%d of %d versions reachable, 0 broken links" % (len(vs), len(vs))
          in out, "demo text summary: %s" % out[-200:])

    # ------------------------------------- a store with a missing snapshot
    f_dir = os.path.join(tmp, "f")
    shutil.copytree(os.path.join(golden, "f_random_large"), f_dir)
    fm = json.load(open(os.path.join(f_dir, "manifest.json")))
    first, last = fm["versions"][0], fm["versions"][-1]
    os.remove(os.path.join(f_dir, "snapshot-%d" % first))
    for f in os.listdir(f_dir):
        if f.startswith("reversedelta-"):
            os.remove(os.path.join(f_dir, f))
    deltas = sorted(f for f in os.listdir(f_dir) if f.startswith("delta-"))
    doc = run_json("inspect", "--dir", f_dir, "--json")
    if doc is not None:
        reach = {v["version"]: v["reachable"] for v in doc["versions"]}
        check(reach == {v: v == last for v in fm["versions"]},
              "missing snapshot: reachable %s" % reach)
        check(sorted(b["blob"] for b in doc["broken"]) == deltas,
              "missing snapshot: broken %s, want %s" % (doc["broken"], deltas))
        for b in doc["broken"]:
            check("no snapshot path reaches version %d" % b["from"] in b["reason"],
                  "broken reason %s" % b)
        unreachable = [v for v in doc["versions"] if not v["reachable"]]
        check(all(v["plan"] is None and "no snapshot" in v["error"]
                  for v in unreachable), "unreachable versions carry the reason")
    rc, out, err = run("inspect", "--dir", f_dir)
    check(rc == 0 and "broken link %s: no snapshot path reaches version %d"
          % (deltas[0], first) in out and
          "1 of %d versions reachable, %d broken links" % (len(fm["versions"]),
                                                          len(deltas)) in out,
          "missing snapshot text: %s" % out[-400:])
    rc, out, err = run("inspect", "--dir", f_dir, "--version", str(first))
    check(rc == 1 and "no snapshot and delta chain" in err,
          "unreachable --version: %d %s" % (rc, err))

    # ------------------------------------------------ errors and fixes
    rc, out, err = run("inspect", "--dir", a, "-version=5", "-verbose")
    vs_a = json.load(open(os.path.join(a, "manifest.json")))["versions"]
    check(rc == 1 and "no version 5; versions are %s" % ", ".join(map(str, vs_a))
          in err, "missing version: %d %s" % (rc, err))
    many = os.path.join(tmp, "many")
    os.mkdir(many)
    for i in range(1, 13):
        open(os.path.join(many, "snapshot-%d" % i), "wb").close()
    rc, out, err = run("inspect", "--dir", many, "--version", "99")
    check(rc == 1 and "no version 99; versions are 1, 2, 3, ..., 10, 11, 12 "
          "(12 versions)" in err, "many versions: %s" % err)
    big = "99999999999999999999"
    for args in (["inspect", "--dir", a, "--version", big],
                 ["consume", "--dir", a, "--version", big],
                 ["pin", "--announcer", "fs", big]):
        rc, out, err = run(*args)
        check(rc == 2 and "too large" in err, "%s: %d %s" % (args, rc, err))
    rc, out, err = run("consume", "--dir", a, "--version", "-3")
    check(rc == 2 and "not a version" in err, "negative version: %s" % err)
    rc, out, err = run("consume", "--dir", a, "--type", "Nope")
    check(rc == 1 and "--type Nope: no such type in version" in err and out == "",
          "consume --type Nope: %d %s %s" % (rc, out, err))
    rc, out, err = run("consume", "--dir", a, "--type", "Prims", "--type", "Nope")
    check(rc == 1 and "Nope" in err and "Prims" in err, "--type Nope: %s" % err)
    try:
        p = subprocess.run([cli, "consume", "--dir", a, "--follow", "--type", "Nope"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        check(p.returncode == 1 and b"--type Nope: no such type" in p.stderr,
              "consume --follow --type Nope: %d %s" % (p.returncode, p.stderr))
    except subprocess.TimeoutExpired:
        check(False, "consume --follow --type Nope did not end")
    doc = run_json("consume", "--dir", a, "--json", "--type", "Prims")
    exp = expected_dump(a, vs_a[-1])
    if doc is not None:
        check(doc["version"] == vs_a[-1] and list(doc["types"]) == ["Prims"] and
              doc["types"]["Prims"] == counts(exp)["Prims"] and
              len(doc["checksum"]) == 8, "consume --json: %s" % doc)
    rc, out, err = run("consume", "--dir", a, "--json", "--dump")
    check(rc == 2, "consume --json --dump is a usage error")
    nope = os.path.join(tmp, "nope")
    for cmd in ("inspect", "dump"):
        rc, out, err = run(cmd, nope)
        check(rc == 1 and "No such file or directory" in err,
              "%s of a missing file: %s" % (cmd, err))
        rc, out, err = run(cmd, tmp)
        check(rc == 1 and "Is a directory" in err, "%s of a directory: %s" % (cmd, err))
    rc, out, err = run("inspect", "--kind", "frob", os.path.join(a, "header-%d" % vs_a[0]))
    check(rc == 2 and "--kind frob" in err, "bad --kind: %s" % err)
    rc, out, err = run("inspect", "--dir", a, os.path.join(a, "header-%d" % vs_a[0]))
    check(rc == 2, "FILE and a store: %d" % rc)
    rc, out, err = run("inspect", "--help")
    check(rc == 0 and "usage: hollow-cli inspect" in out and "--version" in out,
          "inspect --help")
finally:
    shutil.rmtree(tmp)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
