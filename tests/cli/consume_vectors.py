#!/usr/bin/env python3
"""For every vector scenario directory, exactly as Java's producer wrote it,
run `hollow-cli consume --dump --version V` for every published version and
compare with the expected dump of V (the manifest's snapshot-V or ref-V
check: SHA-256 of the exact bytes). Also the announced version without
--version. Prints 'N passed, M failed'."""
import hashlib
import json
import os
import subprocess
import sys

cli, golden = sys.argv[1], sys.argv[2]
passed = failed = 0
for scenario in sorted(os.listdir(golden)):
    d = os.path.join(golden, scenario)
    mpath = os.path.join(d, "manifest.json")
    if not os.path.isfile(mpath):
        continue
    m = json.load(open(mpath))
    want = {}
    for c in m["checks"]:
        if c["id"] in ("snapshot-%d" % c["version"], "ref-%d" % c["version"]):
            want[c["version"]] = c["dump"]["sha256"]
    for v in m["versions"]:
        for mode in ([], ["--mmap"]):
            p = subprocess.run([cli, "consume", "--store", "fs", "--dir", d,
                                "--version", str(v), "--dump"] + mode,
                               capture_output=True)
            got = hashlib.sha256(p.stdout).hexdigest()
            if p.returncode == 0 and got == want[v]:
                passed += 1
            else:
                failed += 1
                print("FAIL %s version %d %s: exit %d, %s" % (
                    scenario, v, " ".join(mode), p.returncode,
                    p.stderr.decode()[:300]))
    announced = int(open(os.path.join(d, "announced.version")).read())
    p = subprocess.run([cli, "consume", "--store", "fs", "--dir", d],
                       capture_output=True)
    if p.returncode == 0 and p.stdout.decode().startswith("version %d\n" % announced):
        passed += 1
    else:
        failed += 1
        print("FAIL %s announced: %s" % (scenario, p.stdout.decode()[:100]))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
