#!/usr/bin/env bash
# hollow-cli diff: store and file forms, -verbose, --json, --limit, --type,
# --exit-code, a missing version.
# usage: run_cli_diff_tests.sh HOLLOW_CLI TESTS_DIR HOLLOW_BENCH
#        (PYTHON: the interpreter)
set -uo pipefail
CLI=$1
TESTS=$2
BENCH=${3:?usage: run_cli_diff_tests.sh HOLLOW_CLI TESTS_DIR HOLLOW_BENCH}
PY=${PYTHON:-python3}
G=$TESTS/golden
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

has() { # has FILE TEXT
  if grep -qF -- "$2" "$TMP/$1"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: $1 lacks '$2':"; head -5 "$TMP/$1"; fi
}

A=$G/c_primary_keys
V1=20250101000000001
V2=20250101000000002

# the store form, every option spelling
expect 0 "diff store" -- "$CLI" diff --dir "$A" --version $V1 --target $V2
has out "diff $V1 -> $V2"
has out "Film (key title,year):"
has out "Country (key code):"
cp "$TMP/out" "$TMP/summary"
expect 0 "diff Go form" -- "$CLI" -command=diff -dir="$A" -version=$V1 -target=$V2
cmp -s "$TMP/out" "$TMP/summary" && ok || bad "Go form prints another summary"
expect 0 "diff -verbose" -- "$CLI" diff --dir "$A" --version $V1 --target $V2 -verbose
has out "→"
has out "  changed title="
# -version=0 is the latest: the same as naming it
LAST=$(ls "$A" | sed -n 's/^snapshot-//p' | sort | tail -1)
expect 0 "diff to 0 (latest)" -- "$CLI" diff --dir "$A" --version $V1 --target 0
has out "diff $V1 -> $LAST"

# the file form agrees with the store form (nothing shared: all compared)
expect 0 "diff files" -- "$CLI" diff "$A/snapshot-$V1" "$A/snapshot-$V2"
tail -n +2 "$TMP/out" >"$TMP/files"
tail -n +2 "$TMP/summary" >"$TMP/store"
cmp -s "$TMP/files" "$TMP/store" && ok || bad "files and store summaries differ"
"$CLI" diff - "$A/snapshot-$V2" <"$A/snapshot-$V1" >"$TMP/out" 2>"$TMP/err" && ok || bad "diff - (stdin)"
tail -n +2 "$TMP/out" | cmp -s - "$TMP/store" && ok || bad "diff - (stdin) prints another summary"
expect 2 "two stdins" -- "$CLI" diff - -
has err "only one of the snapshots can be -"

# --json: one document, parsed by python
expect 0 "diff --json -verbose" -- "$CLI" diff --dir "$A" --version $V1 --target $V2 --json -verbose --limit 3
$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["from"] == int(sys.argv[2]) and d["to"] == int(sys.argv[3]), d
assert d["different"] is True
names = [t["type"] for t in d["types"]]
assert names == sorted(names) and "Film" in names, names
for t in d["types"]:
    assert t["match"] == "key" and t["key"], t
    assert len(t["records"]) <= 3
    assert len(t["records"]) + t["more"] == t["added"] + t["removed"] + t["changed"], t
    for r in t["records"]:
        assert r["kind"] in ("changed", "added", "removed")
        if r["kind"] == "changed":
            assert r["changes"] and all("path" in c for c in r["changes"])
' "$TMP/out" $V1 $V2 && ok || bad "--json document"
expect 0 "diff --json files" -- "$CLI" diff --json "$A/snapshot-$V1" "$A/snapshot-$V1"
$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["different"] is False and all(t["added"] == t["removed"] == t["changed"] == 0 for t in d["types"]), d
assert "records" not in d["types"][0]
' "$TMP/out" && ok || bad "--json of a snapshot against itself"

# --exit-code as diff(1)
expect 1 "--exit-code different" -- "$CLI" diff --exit-code --dir "$A" --version $V1 --target $V2
expect 0 "--exit-code same" -- "$CLI" diff --exit-code --dir "$A" --version $V2 --target $V2
expect 2 "--exit-code trouble" -- "$CLI" diff --exit-code --dir "$A" --version $V1 --target 5
expect 0 "without --exit-code, differences exit 0" -- "$CLI" diff --dir "$A" --version $V1 --target $V2

# a version the store does not have
expect 1 "missing version" -- "$CLI" -command=diff -dir="$A" -version=1 -target=5 -verbose
has err "hollow-cli diff: no version 1; versions are $V1, $V2,"
expect 1 "missing target" -- "$CLI" diff --dir "$A" --version $V1 --target 5
has err "no version 5; versions are $V1"

# usage errors
expect 2 "no versions" -- "$CLI" diff --dir "$A"
has err "give --version A and --target B"
expect 2 "one file" -- "$CLI" diff "$A/snapshot-$V1"
expect 2 "files and versions" -- "$CLI" diff --version 1 "$A/snapshot-$V1" "$A/snapshot-$V2"
expect 2 "too large a version" -- "$CLI" diff --dir "$A" --version 99999999999999999999 --target $V2
has err "hollow-cli diff: --version"
expect 2 "bad limit" -- "$CLI" diff --dir "$A" --version $V1 --target $V2 --limit x
expect 0 "--help" -- "$CLI" diff --help
has out "usage: hollow-cli diff"
expect 1 "unknown --type" -- "$CLI" diff --dir "$A" --version $V1 --target $V2 --type Nope
has err "no type Nope"
expect 1 "unreadable file" -- "$CLI" diff "$TMP/nope" "$A/snapshot-$V1"
has err "cannot read $TMP/nope"

# the Movies dataset (bench-dataset.md, N=10000): versions 1 and 2 differ by
# 50 removed, 50 added and 50 changed movies, each in title and year only
if "$BENCH" movies --n 10000 --out "$TMP/movies" >/dev/null 2>"$TMP/err"; then ok; else
  bad "hollow-bench movies --out"; head -5 "$TMP/err"; fi
M=$TMP/movies
expect 0 "movies diff" -- "$CLI" diff --dir "$M" --version 1 --target 2
has out "Movie (key id): 50 added, 50 removed, 50 changed, 9900 unchanged"
has out "Actor (key id): 0 added, 0 removed, 0 changed, 1000 unchanged"
expect 0 "movies diff -verbose" -- "$CLI" diff --dir "$M" --version 1 --target 2 -verbose
has out "  ... 130 more (--limit)"
has out "    title: \""
has out " (Remastered)\""
expect 0 "movies --json --limit 0" -- "$CLI" diff --dir "$M" -version=1 -target=2 --json -verbose --limit 0
$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
m = [t for t in d["types"] if t["type"] == "Movie"][0]
assert (m["added"], m["removed"], m["changed"]) == (50, 50, 50), m
ch = [r for r in m["records"] if r["kind"] == "changed"]
assert len(ch) == 50 and m["more"] == 0
for r in ch:
    assert [c["path"] for c in r["changes"]] == ["title", "year"], r
    t, y = r["changes"]
    assert t["new"] == t["old"] + " (Remastered)" and y["new"] == y["old"] + 1, r
' "$TMP/out" && ok || bad "movies --json: 50 changed in title and year"
expect 0 "movies --type (by content)" -- "$CLI" diff --dir "$M" --version 1 --target 2 --type SetOfActor
has out "SetOfActor (by content):"

finish "cli diff tests"
