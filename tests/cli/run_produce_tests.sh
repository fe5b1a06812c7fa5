#!/usr/bin/env bash
# shellcheck disable=SC2015 # `check && ok || bad`: ok never fails
# hollow-cli produce and schema --infer over the go-hollow fixtures (issue 15):
# versions with and without a schema whose deep dumps hold the files'
# records, deltas on changed data, nothing on unchanged data, bad data that
# leaves the store as it was, and the Movies chain against hollow-bench's.
# usage: run_produce_tests.sh HOLLOW_CLI TESTS_DIR HOLLOW_BENCH
#        (PYTHON: the interpreter)
set -uo pipefail
CLI=$1
TESTS=$2
BENCH=${3:?usage: run_produce_tests.sh HOLLOW_CLI TESTS_DIR HOLLOW_BENCH}
PY=${PYTHON:-python3}
FX=$TESTS/fixtures/go-hollow
C=$TESTS/fixtures/capnp
P=$TESTS/cli/produce
CHECK=$TESTS/cli/produce_check.py
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"


stderr_matches() {
  if grep -qE -- "$1" "$TMP/err"; then ok; else
    bad "stderr does not match '$1':"; head -5 "$TMP/err"; fi
}
# the version printed alone on stdout
version_out() {
  if grep -qxE '[0-9]+' "$TMP/out" && [ "$(wc -l <"$TMP/out")" -eq 1 ]; then ok; else
    bad "stdout is not a version alone:"; head -3 "$TMP/out"; fi
}
# deep dump of TYPE at the store's announced version holds FILE's records
holds() { # STORE TYPE FILE
  if ! "$CLI" consume --store fs --dir "$1" --deep "$2" >"$TMP/deep" 2>"$TMP/derr"; then
    bad "consume --deep $2 over $1"; head -3 "$TMP/derr"; return; fi
  if $PY "$CHECK" "$TMP/deep" "$3" >"$TMP/check"; then ok; else
    bad "deep dump of $2 vs $(basename "$3"):"; head -5 "$TMP/check"; fi
}
listing() { (cd "$1" && for f in *; do echo "$f"; done | sort); }

# ---------------------------------------------------------------- fixtures
for path in "$FX"/*; do
  f=$(basename "$path")
  n=${f%.*}
  # no schema: inferred, and said so
  expect 0 "produce $f without a schema" -- "$CLI" produce --store fs \
    --dir "$TMP/inf-$n" --data "$path"
  version_out
  stderr_has "the schema is inferred"
  expect 0 "schema --infer $f" -- "$CLI" schema --infer --data "$path"
  cp "$TMP/out" "$TMP/$n.hollow"
  expect 0 "the inferred schema of $f parses" -- "$CLI" schema "$TMP/$n.hollow"
  # the root type is the one the file's records fill
  t=$("$CLI" schema --verbose "$TMP/$n.hollow" | sed -n 's/.*: root type //p')
  [ -n "$t" ] && ok || bad "$f: no root type in the inferred schema"
  holds "$TMP/inf-$n" "$t" "$path"
  expect 0 "consume --dump after $f" -- "$CLI" consume --store fs --dir "$TMP/inf-$n" --dump
  # with that schema passed back: a store of its own, the same records
  expect 0 "produce $f with its inferred schema" -- "$CLI" produce --store fs \
    --dir "$TMP/sch-$n" --schema "$TMP/$n.hollow" --data "$path"
  version_out
  if grep -q "inferred" "$TMP/err"; then bad "$f: inferred despite --schema"; else ok; fi
  holds "$TMP/sch-$n" "$t" "$path"
done

# two files without a schema: each fills the type named after it
expect 0 "produce movies.csv + ratings.csv without a schema" -- "$CLI" produce \
  --store fs --dir "$TMP/two" --data "$FX/movies.csv" --data "$FX/ratings.csv"
version_out
holds "$TMP/two" Movies "$FX/movies.csv"
holds "$TMP/two" Ratings "$FX/ratings.csv"

# --primary-key on an inferred schema: the key finds the record
expect 0 "produce customers.csv --primary-key Customers=id" -- "$CLI" produce \
  --store fs --dir "$TMP/pk" --data "$FX/customers.csv" --primary-key Customers=id
expect 0 "consume --query Customers 1003" -- "$CLI" consume --store fs --dir "$TMP/pk" \
  --query Customers 1003
grep -qF '"Charlie Brown"' "$TMP/out" && ok || { bad "--query by the given key"; cat "$TMP/out"; }
expect 2 "--primary-key of an unknown type" -- "$CLI" produce --store fs --dir "$TMP/pk" \
  --data "$FX/customers.csv" --primary-key Nope=id

# people with people.capnp (Person: UInt32 id -> long, Address, enum Role)
S=$TMP/people
expect 0 "produce person_data.json with people.capnp" -- "$CLI" produce --store fs \
  --dir "$S" --schema "$C/people.capnp" --data "$FX/person_data.json"
version_out
v1=$(cat "$TMP/out")
holds "$S" Person "$FX/person_data.json"
expect 0 "consume --dump people" -- "$CLI" consume --store fs --dir "$S" --dump
grep -qF '"alice@example.com"' "$TMP/out" && ok || bad "dump lacks alice@example.com"
# the same data again: nothing published, the same version printed
listing "$S" >"$TMP/before"
expect 0 "produce unchanged" -- "$CLI" produce --store fs --dir "$S" \
  --schema "$C/people.capnp" --data "$FX/person_data.json" --verbose
[ "$(cat "$TMP/out")" = "$v1" ] && ok || bad "unchanged data printed $(cat "$TMP/out"), want $v1"
listing "$S" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" && ok || bad "unchanged data wrote files: $(diff "$TMP/before" "$TMP/after")"
stderr_has "nothing published"
# changed data: a delta and a reverse delta, and the new records
expect 0 "produce person_data_v2.json" -- "$CLI" produce --store fs --dir "$S" \
  --schema "$C/people.capnp" --data "$FX/person_data_v2.json" -verbose
version_out
v2=$(cat "$TMP/out")
[ "$v2" -gt "$v1" ] && ok || bad "v2 $v2 not above v1 $v1"
[ -f "$S/delta-$v1-$v2" ] && ok || bad "no delta-$v1-$v2: $(listing "$S" | tr '\n' ' ')"
[ -f "$S/reversedelta-$v2-$v1" ] && ok || bad "no reversedelta-$v2-$v1"
[ "$(cat "$S/announced.version")" = "$v2" ] && ok || bad "announced $(cat "$S/announced.version"), want $v2"
holds "$S" Person "$FX/person_data_v2.json"
# the files differ by one kept, three new and two gone Person records
stderr_matches '^Person: 3 added, 2 removed, 1 kept$'
stderr_matches "^wrote delta-$v1-$v2: [0-9]+ bytes$"
stderr_matches "^wrote header-$v2: [0-9]+ bytes$"
stderr_matches "person_data_v2.json: [0-9]+ records into Person"
# the old version is still reachable, by the reverse delta too
expect 0 "consume --version v1" -- "$CLI" consume --store fs --dir "$S" --version "$v1" --deep Person
$PY "$CHECK" "$TMP/out" "$FX/person_data.json" >"$TMP/check" && ok || { bad "v1 after v2"; head -3 "$TMP/check"; }

# bad data: FILE:LINE:COLUMN, exit 1, nothing published or announced
listing "$S" >"$TMP/before"
ann=$(cat "$S/announced.version")
printf '[\n  {"id": 1, "name": "a"},\n  {"id": "x1", "name": "b"}\n]\n' >"$TMP/bad.json"
expect 1 "a string for a long" -- "$CLI" produce --store fs --dir "$S" \
  --schema "$C/people.capnp" --data "$TMP/bad.json"
stderr_matches "^hollow-cli produce: $TMP/bad.json:3:[0-9]+: "
[ ! -s "$TMP/out" ] && ok || bad "a failed produce printed a version"
printf '{"id": 1, "name": "a"}\n{"id": 2, "name": "b", "isActive": tru}\n' >"$TMP/bad.jsonl"
expect 1 "malformed JSON line" -- "$CLI" produce --store fs --dir "$S" \
  --schema "$C/people.capnp" --data "$TMP/bad.jsonl"
stderr_matches "^hollow-cli produce: $TMP/bad.jsonl:2:[0-9]+: "
printf 'id,title,year\n1,A,1999\n2,B,99999999999\n' >"$TMP/range.csv"
expect 1 "a year out of int range" -- "$CLI" produce --store fs --dir "$S" \
  --schema "$C/movies.capnp" --data "$TMP/range.csv"
stderr_matches "^hollow-cli produce: $TMP/range.csv:3(:[0-9]+)?: "
listing "$S" >"$TMP/after"
cmp -s "$TMP/before" "$TMP/after" && ok || bad "bad data changed the store: $(diff "$TMP/before" "$TMP/after")"
[ "$(cat "$S/announced.version")" = "$ann" ] && ok || bad "bad data moved announced.version"

# a data file that cannot be read: its name and the reason, once
expect 1 "a missing data file" -- "$CLI" produce --store fs --dir "$TMP/missing" \
  --schema "$C/people.capnp" --data "$TMP/nope.json"
[ "$(cat "$TMP/err")" = "hollow-cli produce: $TMP/nope.json: No such file or directory" ] && ok ||
  bad "missing data file message: $(cat "$TMP/err")"

# unknown fields: ignored and counted, or an error with --strict
printf '[{"id": 7, "name": "n", "nickname": "x"}]\n' >"$TMP/unknown.json"
expect 1 "--strict with an unknown field" -- "$CLI" produce --store fs \
  --dir "$TMP/strict" --schema "$C/people.capnp" --data "$TMP/unknown.json" --strict
stderr_matches "^hollow-cli produce: $TMP/unknown.json:1:[0-9]+: .*nickname"
[ ! -e "$TMP/strict/announced.version" ] && ok || bad "--strict failure announced"
expect 0 "an unknown field without --strict" -- "$CLI" produce --store fs \
  --dir "$TMP/strict" --schema "$C/people.capnp" --data "$TMP/unknown.json" --verbose
stderr_has "1 unknown fields ignored"

# movies with movies.capnp; ratings into Rating by TYPE=FILE
S=$TMP/movies
expect 0 "produce movies.csv + Rating=ratings.csv with movies.capnp" -- "$CLI" produce \
  --store fs --dir "$S" --schema "$C/movies.capnp" --data "$FX/movies.csv" \
  --data "Rating=$FX/ratings.csv"
version_out
holds "$S" Movie "$FX/movies.csv"
holds "$S" Rating "$FX/ratings.csv"
# orders with their JSON items into OrderItem records
S=$TMP/orders
expect 0 "produce orders.csv with a schema of OrderItem lists" -- "$CLI" produce \
  --store fs --dir "$S" --schema "$P/orders.hollow" --data "$FX/orders.csv"
version_out
holds "$S" Order "$FX/orders.csv"
"$CLI" consume --store fs --dir "$S" >"$TMP/counts"
grep -qE 'OrderItem.* 20( |$)|OrderItem: 20' "$TMP/counts" && ok || { bad "OrderItem count"; cat "$TMP/counts"; }

# standard input (with --format and --schema)
expect 0 "--data - with --format" -- bash -c "\"$CLI\" produce --store fs --dir \"$TMP/stdin\" \
  --schema \"$C/people.capnp\" --format json --data - <\"$FX/person_data.json\""
version_out
holds "$TMP/stdin" Person "$FX/person_data.json"

# a progress bar on stderr only when it is a terminal (script(1) gives one)
grep -qF '%]' "$TMP/err" && bad "a progress bar on a non-terminal stderr" || ok
if command -v script >/dev/null; then
  script -qec "\"$CLI\" produce --store fs --dir \"$TMP/pty\" --schema \"$C/people.capnp\" \
    --data \"$FX/person_data.json\"" /dev/null >"$TMP/pty.out" 2>&1
  grep -qF 'person_data.json' "$TMP/pty.out" && grep -qF '100%' "$TMP/pty.out" && ok ||
    { bad "no progress bar on a terminal"; od -c "$TMP/pty.out" | head -5; }
fi

# usage errors
expect 2 "ambiguous root" -- "$CLI" produce --store fs --dir "$TMP/amb" \
  --schema "$P/two_roots.hollow" --data "$FX/customers.csv"
stderr_has "Customer"
stderr_has "Supplier"
[ ! -e "$TMP/amb" ] && ok || bad "a usage error created the store"
expect 0 "ambiguous root resolved by TYPE=" -- "$CLI" produce --store fs --dir "$TMP/amb" \
  --schema "$P/two_roots.hollow" --data "Customer=$FX/customers.csv"
expect 2 "no --data" -- "$CLI" produce --store fs --dir "$TMP/x"
expect 2 "--data - without --format" -- "$CLI" produce --store fs --dir "$TMP/x" \
  --schema "$C/people.capnp" --data -
expect 2 "unknown extension" -- "$CLI" produce --store fs --dir "$TMP/x" --data "$TMP/before"
expect 2 "unknown TYPE=" -- "$CLI" produce --store fs --dir "$TMP/x" \
  --schema "$C/people.capnp" --data "Nope=$FX/person_data.json"
expect 2 "--store fs without --dir" -- "$CLI" produce --store fs --data "$FX/person_data.json"
expect 0 "produce --help" -- "$CLI" produce --help
grep -q "usage: hollow-cli produce" "$TMP/out" && ok || bad "produce --help text"
expect 1 "schema syntax error" -- "$CLI" produce --store fs --dir "$TMP/x" \
  --schema "$P/orders.hollow.nope" --data "$FX/orders.csv"
printf 'Order { long id;\n  string name }\n' >"$TMP/bad.hollow"
expect 1 "schema parse error names FILE:LINE:COL" -- "$CLI" produce --store fs --dir "$TMP/x" \
  --schema "$TMP/bad.hollow" --data "$FX/orders.csv"
stderr_matches "^hollow-cli produce: $TMP/bad.hollow:2:[0-9]+: "

# schema --print / --verbose of a .capnp (the seed's `schema -data=X.capnp -verbose`)
expect 0 "schema -data=people.capnp -verbose" -- "$CLI" -command=schema -data="$C/people.capnp" -verbose
grep -q "root type Person" "$TMP/out" && ok || { bad "schema -verbose lacks the root type"; cat "$TMP/out"; }
grep -q "Person OBJECT, 8 fields: long id, string name" "$TMP/out" && ok || { bad "schema -verbose lacks Person's fields"; cat "$TMP/out"; }

# ------------------------------------------- the Movies chain (Done-when 2)
# hollow-bench's JSON lines through two produce runs give, at both versions,
# the deep dump of Movie that hollow-bench's own blobs give
# (produce/movies_bench.hollow is movies_schema_text of bench/movies_populate.c)
if "$BENCH" movies --n 2000 --jsonl "$TMP/v1.jsonl" --jsonl2 "$TMP/v2.jsonl" \
     --gen-only >/dev/null 2>"$TMP/err" &&
   "$BENCH" movies --n 2000 --lookups 10 --out "$TMP/bench" >/dev/null 2>>"$TMP/err"; then ok; else
  bad "hollow-bench movies"; head -5 "$TMP/err"; fi
S=$TMP/chain
expect 0 "produce v1.jsonl" -- "$CLI" produce --store fs --dir "$S" \
  --schema "$P/movies_bench.hollow" --data "$TMP/v1.jsonl"
c1=$(cat "$TMP/out")
expect 0 "produce v2.jsonl" -- "$CLI" produce --store fs --dir "$S" \
  --schema "$P/movies_bench.hollow" --data "$TMP/v2.jsonl"
c2=$(cat "$TMP/out")
[ -f "$S/delta-$c1-$c2" ] && ok || bad "the chain has no delta-$c1-$c2"
"$CLI" dump --deep Movie "$TMP/bench/snapshot-1" >"$TMP/want1"
"$CLI" dump --deep Movie "$TMP/bench/snapshot-1" "$TMP/bench/delta-1-2" >"$TMP/want2"
for i in 1 2; do
  v=$([ $i = 1 ] && echo "$c1" || echo "$c2")
  # by snapshot, and version 2 also by the delta from version 1
  "$CLI" consume --store fs --dir "$S" --version "$v" --deep Movie >"$TMP/got$i"
  cmp -s "$TMP/got$i" "$TMP/want$i" && ok || bad "deep dump of Movie at version $i differs from hollow-bench's"
  [ "$(head -c 100 "$TMP/want$i" | grep -c '"count":2000')" = 1 ] && ok || bad "hollow-bench's dump $i lacks 2000 movies"
done
rm "$S/snapshot-$c2"
"$CLI" consume --store fs --dir "$S" --version "$c2" --deep Movie >"$TMP/got2d"
cmp -s "$TMP/got2d" "$TMP/want2" && ok || bad "deep dump of Movie at version 2 by the delta differs"

# hollow-bench import runs end to end (its figures are for the 1M run)
if "$BENCH" import --n 500 >"$TMP/bench.json" 2>"$TMP/err" &&
   grep -qF '"records":500,' "$TMP/bench.json"; then ok; else
  bad "hollow-bench import --n 500"; cat "$TMP/bench.json"; head -3 "$TMP/err"; fi

finish
