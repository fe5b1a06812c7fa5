#!/usr/bin/env bash
# Runs the hollow-cli binary: option forms, exit codes, error messages.
# usage: run_cli_tests.sh HOLLOW_CLI TESTS_DIR MAKE_WIDE_SNAPSHOT DIST_PRODUCER
#        (PYTHON: the interpreter)
set -uo pipefail
CLI=$1
TESTS=$2
MAKE_WIDE=${3:?usage: run_cli_tests.sh HOLLOW_CLI TESTS_DIR MAKE_WIDE_SNAPSHOT DIST_PRODUCER}
DIST_PRODUCER=${4:?usage: run_cli_tests.sh HOLLOW_CLI TESTS_DIR MAKE_WIDE_SNAPSHOT DIST_PRODUCER}
G=$TESTS/golden
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# the last command's stdout equals FILE
stdout_is_file() {
  if cmp -s "$TMP/out" "$1"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: stdout differs from $1"; fi
}

A=$G/a_primitives
SNAP=$A/snapshot-20250101000000001
EXP=$A/expected/20250101000000001.json
DEEP=$A/expected/20250101000000001.deep.Prims.json

expect 0 "dump" -- "$CLI" dump "$SNAP"; stdout_is_file "$EXP"
expect 0 "dump --mmap" -- "$CLI" dump --mmap "$SNAP"; stdout_is_file "$EXP"
expect 0 "dump --deep TYPE" -- "$CLI" dump --deep Prims "$SNAP"; stdout_is_file "$DEEP"
expect 0 "dump --deep=TYPE" -- "$CLI" dump --deep=Prims "$SNAP"; stdout_is_file "$DEEP"
expect 0 "dump -deep=TYPE (Go form)" -- "$CLI" dump -deep=Prims "$SNAP"; stdout_is_file "$DEEP"
expect 0 "-command=dump form" -- "$CLI" -command=dump -deep=Prims "$SNAP"; stdout_is_file "$DEEP"
expect 0 "dump --help" -- "$CLI" dump --help
grep -q "usage: hollow-cli dump" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: dump --help text"; }
expect 0 "top-level --help" -- "$CLI" --help
expect 2 "no command" -- "$CLI"
expect 2 "unknown command" -- "$CLI" frobnicate
stderr_has "unknown command"
expect 2 "dump without snapshot" -- "$CLI" dump
expect 2 "dump unknown option" -- "$CLI" dump --bogus "$SNAP"
stderr_has "hollow-cli dump: unknown option --bogus"
expect 2 "dump --deep without value" -- "$CLI" dump "$SNAP" --deep
stderr_has "hollow-cli dump: option --deep needs a value"
expect 1 "missing file" -- "$CLI" dump "$TMP/nope"
stderr_has "hollow-cli dump: "
stderr_has "nope"
expect 1 "absent deep type" -- "$CLI" dump --deep NoSuchType "$SNAP"
stderr_has "type NoSuchType is not in the state"
head -c 1000 "$SNAP" >"$TMP/trunc"
expect 1 "truncated blob" -- "$CLI" dump "$TMP/trunc"
stderr_has "truncated"
stderr_has "offset"
printf 'not a blob at all' >"$TMP/junk"
expect 1 "not a blob" -- "$CLI" dump "$TMP/junk"
stderr_has "blob format version"
# -command=VERB with more arguments than the old fixed argv copy held (4095):
# 4094 deltas, forward and back, end at version 1; the old copy silently
# dropped the last one and printed version 2
D12=$A/delta-20250101000000001-20250101000000002
R21=$A/reversedelta-20250101000000002-20250101000000001
chain=()
for _ in $(seq 2047); do chain+=("$D12" "$R21"); done
expect 0 "-command=dump with 4094 deltas" -- "$CLI" -command=dump "$SNAP" "${chain[@]}"
stdout_is_file "$EXP"
expect 0 "--command dump with 4094 deltas" -- "$CLI" --command dump "$SNAP" "${chain[@]}"
stdout_is_file "$EXP"
expect 0 "inspect" -- "$CLI" inspect --records 1 "$G/b_collections/snapshot-20250101000000001"
grep -q "type Person" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: inspect output"; }

# schema command: valid files, and a parse error with FILE:line:column
expect 0 "schema valid" -- "$CLI" schema "$G/b_collections/schema.hollow"
printf 'Movie {\n  int id;\n  string title\n}\n' >"$TMP/bad.hollow"
expect 1 "schema parse error" -- "$CLI" schema "$TMP/bad.hollow"
stderr_has "$TMP/bad.hollow:4:1:"
expect 0 "schema --print round trip" -- "$CLI" schema --print "$G/b_collections/schema.hollow"
stdout_is_file "$G/b_collections/schema.hollow"
# more files than any fixed list held (256 files, 4095 arguments)
many=()
for _ in $(seq 5000); do many+=("$G/b_collections/schema.hollow"); done
expect 0 "-command=schema with 5000 files" -- "$CLI" -command=schema "${many[@]}"
if [ "$(grep -c ': ok, 12 schemas$' "$TMP/out")" -eq 5000 ]; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL: schema of 5000 files: $(wc -l <"$TMP/out") lines"; fi

# schema of .capnp files: the compiler's verdict and line (capnp compile is the oracle)
C=$TESTS/fixtures/capnp
for f in "$C"/*.capnp; do
  expect 0 "schema $(basename "$f")" -- "$CLI" schema "$f"
done
expect 0 "schema --print people.capnp" -- "$CLI" schema --print "$C/people.capnp"
grep -q '^Role {$' "$TMP/out" && grep -q $'^\tstring _name;$' "$TMP/out" &&
  grep -q $'^\tRole role;$' "$TMP/out" && pass=$((pass + 1)) ||
  { fail=$((fail + 1)); echo "FAIL: schema --print people.capnp"; cat "$TMP/out"; }
expect 0 "schema --print movies.capnp" -- "$CLI" schema --print "$C/movies.capnp"
grep -q '^ListOfString List<String>;$' "$TMP/out" && pass=$((pass + 1)) ||
  { fail=$((fail + 1)); echo "FAIL: schema --print movies.capnp lacks ListOfString"; }
for f in "$C"/invalid/*.capnp; do
  line=$(capnp compile -o- "$f" 2>&1 >/dev/null | head -1 | sed -n 's/^[^:]*\.capnp:\([0-9]*\):.*/\1/p')
  expect 1 "schema invalid/$(basename "$f")" -- "$CLI" schema "$f"
  stderr_has "hollow-cli schema: $f:$line: "
done
printf '@0xd6b3f1c2a4e58995;\nusing Hollow = import "/hollow/hollow.capnp";\nstruct P $Hollow.primaryKey("id") {\n  id @0 :UInt32;\n  name @1 :Text;\n  pet :union { dog @2 :Text; cat @3 :Text; }\n}\n' >"$TMP/people.capnp"
expect 1 "schema .capnp union" -- "$CLI" schema -I "$TESTS/../include" "$TMP/people.capnp"
stderr_has "$TMP/people.capnp: struct P field pet: unions are not supported"
sed -i '/pet :union/d' "$TMP/people.capnp"
expect 1 "schema .capnp import not on the path" -- "$CLI" schema "$TMP/people.capnp"
stderr_has "$TMP/people.capnp:2: "
expect 0 "schema .capnp -I DIR" -- "$CLI" schema --print -I "$TESTS/../include" "$TMP/people.capnp"
grep -q '^P @PrimaryKey(id) {$' "$TMP/out" && pass=$((pass + 1)) ||
  { fail=$((fail + 1)); echo "FAIL: primary key annotation"; cat "$TMP/out"; }
expect 0 "schema .capnp --primary-key" -- "$CLI" schema --print --primary-key=P=id,name -I="$TESTS/../include" "$TMP/people.capnp"
grep -q '^P @PrimaryKey(id, name) {$' "$TMP/out" && pass=$((pass + 1)) ||
  { fail=$((fail + 1)); echo "FAIL: --primary-key"; cat "$TMP/out"; }
expect 1 "schema .capnp --primary-key bad" -- "$CLI" schema --primary-key P -I "$TESTS/../include" "$TMP/people.capnp"
stderr_has "expected TYPE=field[,field]"

# filter: every first snapshot rewrites to Java's bytes; others to the same dump
for d in "$G"/*/; do
  first="$d/snapshot-20250101000000001"
  expect 0 "filter $(basename "$d")" -- "$CLI" filter "$first" "$TMP/filtered"
  if cmp -s "$first" "$TMP/filtered"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: filter of $first is not Java's bytes"; fi
  for snap in "$d"/snapshot-*; do
    "$CLI" filter "$snap" "$TMP/f2" && "$CLI" dump "$snap" >"$TMP/a" && "$CLI" dump "$TMP/f2" >"$TMP/b"
    if cmp -s "$TMP/a" "$TMP/b"; then pass=$((pass + 1)); else
      fail=$((fail + 1)); echo "FAIL: filter of $snap changes the dump"; fi
  done
done
B=$G/b_collections/snapshot-20250101000000001
expect 0 "filter --include" -- "$CLI" filter --include Person "$B" "$TMP/inc"
"$CLI" inspect --records 0 "$TMP/inc" >"$TMP/out"
if grep -q "type Person" "$TMP/out" && grep -q "type ListOfString" "$TMP/out" &&
   grep -q "type String " "$TMP/out" && ! grep -q "type Group" "$TMP/out"; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --include Person kept:"; cat "$TMP/out"; fi
# repeated options beyond the old fixed lists (256 --include, 64 --type)
incs=()
for _ in $(seq 300); do incs+=(--include Person); done
expect 0 "filter with 300 --include" -- "$CLI" filter "${incs[@]}" "$B" "$TMP/inc300"
if cmp -s "$TMP/inc" "$TMP/inc300"; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL: 300 --include Person differ from one"; fi
types=()
for _ in $(seq 100); do types+=(--type Prims); done
expect 0 "consume with 100 --type" -- "$CLI" consume --dir "$A" "${types[@]}"
grep -q "^Prims " "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: consume --type x100"; }
expect 1 "filter --exclude a referenced type" -- "$CLI" filter --exclude Person "$B" "$TMP/exc"
stderr_has "cannot exclude Person: referenced by"
stderr_has "Group"
expect 0 "filter --exclude a top-level type" -- "$CLI" filter --exclude Group "$B" "$TMP/exc"
"$CLI" inspect --records 0 "$TMP/exc" >"$TMP/out"
if ! grep -q "type Group" "$TMP/out" && grep -q "type Person" "$TMP/out"; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --exclude Group"; fi
# a type with 70 references (the old list of a type's references held 64)
# and 41 referrers of one type (the old message held 1024 bytes)
if "$MAKE_WIDE" "$TMP/wide"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: make_wide_snapshot"; fi
expect 0 "filter --include a type with 70 references" -- "$CLI" filter --include Wide "$TMP/wide" "$TMP/wide-inc"
"$CLI" inspect --records 0 "$TMP/wide-inc" >"$TMP/out"
if [ "$(grep -c '^type L[0-9]' "$TMP/out")" -eq 70 ] && grep -q "^type Wide " "$TMP/out" &&
   ! grep -q "^type Referrer" "$TMP/out"; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL: --include Wide kept:"; grep -c "^type" "$TMP/out"; fi
expect 1 "filter --exclude a type with 41 referrers" -- "$CLI" filter --exclude L0 "$TMP/wide" "$TMP/wide-exc"
stderr_has "Referrer_type_with_a_rather_long_name_00, "
stderr_has "Referrer_type_with_a_rather_long_name_39"
stderr_has ", Wide"
# a BYTES primary key of 5000 bytes (the old key buffer held 4096)
mkdir "$TMP/widestore" && cp "$TMP/wide" "$TMP/widestore/snapshot-1"
longkey=$(python3 -c "print(''.join('%02x' % (i & 255) for i in range(5000)))")
expect 0 "consume --query with a 5000-byte key" -- "$CLI" consume --dir "$TMP/widestore" --version 1 --query Blob "$longkey"
grep -qF "{\"key\":\"$longkey\"}" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: --query Blob output:"; head -c 200 "$TMP/out"; }
expect 1 "consume --query with another 5000-byte key" -- "$CLI" consume --dir "$TMP/widestore" --version 1 --query Blob "${longkey%??}ff"
stderr_has "no Blob record has that key"
expect 1 "filter of a missing file" -- "$CLI" filter "$TMP/nope" "$TMP/x"
expect 2 "filter without OUT" -- "$CLI" filter "$B"

# consume: every version of every vector directory, as Java wrote it
if out=$(${PYTHON:-python3} "$TESTS/cli/consume_vectors.py" "$CLI" "$G"); then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: consume over the vectors:"; echo "$out" | tail -20; fi
expect 2 "consume without --dir" -- "$CLI" consume --store fs
expect 1 "consume of a missing directory" -- "$CLI" consume --store fs --dir "$TMP/none"
expect 1 "consume of an unreachable version" -- "$CLI" consume --dir "$G/a_primitives" --version 42
stderr_has "no snapshot and delta chain"

# consume over a damaged announced.version (issue 12): an error naming the
# file without --version, a warning with it; a FIFO does not block
S=$TMP/store
mkdir -p "$S"
cp "$G"/a_primitives/*-2025* "$S"/
printf 'garbage' > "$S/announced.version"
expect 1 "consume with a corrupt announced.version" -- "$CLI" consume --dir "$S"
stderr_has "announced.version does not hold a version: \"garbage\""
expect 0 "consume --version with a corrupt announced.version" -- "$CLI" consume --dir "$S" --version 20250101000000002
stderr_has "warning: "
grep -q "version 20250101000000002" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: --version V over a corrupt announced.version"; }
rm -f "$S/announced.version"
mkfifo "$S/announced.version"
expect 1 "consume with a FIFO as announced.version" -- timeout 20 "$CLI" consume --dir "$S"
stderr_has "announced.version is not a regular file"
rm -f "$S/announced.version"

# gc: keeps the chain to the announced version, removes the rest
printf 20250101000000002 > "$S/announced.version"
cp "$S/delta-20250101000000001-20250101000000002" "$S/delta-20250101000000001-20250101000000009"
: > "$S/.snapshot-20250101000000009.999999999.1.tmp"
expect 0 "gc --dry-run" -- "$CLI" gc --store fs --dir "$S" --dry-run
grep -q "would remove delta-20250101000000001-20250101000000009" "$TMP/out" && [ -e "$S/delta-20250101000000001-20250101000000009" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: gc --dry-run"; }
expect 0 "gc --keep 1" -- "$CLI" gc -store=fs -dir="$S" --keep 1
left=$(cd "$S" && ls | tr '\n' ' ')
[ "$left" = "announced.version header-20250101000000002 snapshot-20250101000000002 " ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: gc --keep 1 left: $left"; }
[ ! -e "$S/.snapshot-20250101000000009.999999999.1.tmp" ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: a dead writer's temporary file stayed"; }
expect 0 "consume after gc" -- "$CLI" consume --dir "$S"
grep -q "version 20250101000000002" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: consume after gc"; }
expect 2 "gc --keep 0" -- "$CLI" gc --dir "$S" --keep 0
expect 2 "gc --store fs without --dir" -- "$CLI" gc --store fs
stderr_has "needs --dir"
# no store option: the memory sample, as every store command (versions 1-3)
expect 0 "gc on the memory sample" -- "$CLI" gc
stderr_has "announced 3; 0 blob(s) removed, 10 kept"
expect 0 "gc --keep 1 on the memory sample" -- "$CLI" gc --keep 1 --dry-run
grep -q "would remove delta-2-3" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: gc --keep 1 on the sample"; }
rm -f "$S/announced.version"
expect 1 "gc without an announced version" -- "$CLI" gc --dir "$S"
stderr_has "announced"


# consume --follow over a filesystem store: a consumer started before
# anything is announced, a producer paced through a FIFO (one cycle per
# line), and after each cycle the consumer's line; then SIGTERM ends it
# with exit 0 and its lines are exactly the producer's (same checksums)
# wait_lines FILE N: until FILE has N lines (at most 30 s)
wait_lines() {
  local i
  for i in $(seq 300); do
    [ "$(wc -l <"$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}
F=$TMP/follow
mkdir -p "$F/store"
"$CLI" consume --store fs --dir "$F/store" --follow >"$F/c1" 2>"$F/c1.err" &
cpid=$!
"$CLI" consume --dir "$F/store" --follow --json >"$F/c2" 2>"$F/c2.err" &
jpid=$!
mkfifo "$F/pace"
"$DIST_PRODUCER" --store fs --dir "$F/store" --cycles 3 --step <"$F/pace" >"$F/p" 2>"$F/p.err" &
ppid=$!
exec 3>"$F/pace"
sleep 0.5 # both consumers are watching before the first announcement
for n in 1 2 3; do
  echo >&3
  wait_lines "$F/p" "$n" && wait_lines "$F/c1" "$n" && wait_lines "$F/c2" "$n" ||
    bad "--follow: no line for cycle $n (producer $(wc -l <"$F/p"), consumers $(wc -l <"$F/c1") $(wc -l <"$F/c2"))"
done
exec 3>&-
wait "$ppid" && ok || { bad "dist_producer failed"; cat "$F/p.err"; }
sleep 0.3 # a fourth line would show up now
kill -TERM "$cpid"
wait "$cpid"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "consume --follow: exit $rc after SIGTERM, want 0"
kill -INT "$jpid"
wait "$jpid"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "consume --follow --json: exit $rc after SIGINT, want 0"
[ "$(wc -l <"$F/c1")" -eq 3 ] && ok || bad "--follow printed $(wc -l <"$F/c1") lines, want 3"
cmp -s "$F/p" "$F/c1" && ok || { bad "--follow lines differ from the producer's"; diff "$F/p" "$F/c1" | head; }
grep -qE '^version [0-9]+ checksum [0-9a-f]{8} Actor=3 Movie=8$' "$F/c1" && ok || bad "--follow line format: $(tail -1 "$F/c1")"
[ ! -s "$F/c1.err" ] && ok || { bad "--follow wrote to stderr"; head -3 "$F/c1.err"; }
# the JSON lines parse and say the same as the text lines
if ${PYTHON:-python3} - "$F/c2" "$F/p" <<'PY'
import json, sys
js = [json.loads(l) for l in open(sys.argv[1])]
text = [l.split() for l in open(sys.argv[2])]
assert len(js) == len(text) == 3, (len(js), len(text))
for j, t in zip(js, text):
    assert j["version"] == int(t[1]), (j, t)
    assert j["checksum"] == t[3], (j, t)
    assert ["%s=%d" % kv for kv in j["types"].items()] == t[4:], (j, t)
PY
then ok; else bad "--follow --json lines"; fi
# a consumer started after the fact prints the announced version, once
"$CLI" consume --dir "$F/store" --follow >"$F/c3" 2>&1 &
cpid=$!
wait_lines "$F/c3" 1 || bad "--follow of an announced store printed nothing"
sleep 0.3
kill -TERM "$cpid"; wait "$cpid"; rc=$?
[ "$rc" -eq 0 ] && [ "$(cat "$F/c3")" = "$(tail -1 "$F/p")" ] && ok ||
  bad "--follow of an announced store: exit $rc, $(cat "$F/c3")"

# output that cannot be written ends --follow with exit 1 (not a hang)
timeout 30 "$CLI" consume --dir "$F/store" --follow >/dev/full 2>"$TMP/err"; rc=$?
[ "$rc" -eq 1 ] && ok || bad "--follow >/dev/full: exit $rc, want 1"
stderr_has "cannot write the output"

# usage errors of the store options, --follow, pin and unpin
expect 2 "consume --json with --dump" -- "$CLI" consume --dir "$F/store" --json --dump
stderr_has "--dump, --deep and --query print JSON already"
expect 2 "consume --follow --dump" -- "$CLI" consume --dir "$F/store" --follow --dump
stderr_has "--follow prints each version reached"
expect 2 "consume --follow --version" -- "$CLI" consume --dir "$F/store" --follow --version 1
expect 2 "consume --store bogus" -- "$CLI" consume --store bogus --dir "$F/store"
stderr_has "--store bogus: unknown store"
expect 2 "consume --store fs --endpoint" -- "$CLI" consume --dir "$F/store" --endpoint localhost:1
stderr_has "--endpoint does not apply to --store fs"
expect 2 "consume --announcer bogus" -- "$CLI" consume --dir "$F/store" --announcer bogus
stderr_has "--announcer bogus: unknown announcer"
expect 2 "pin over fs" -- "$CLI" pin --announcer fs 5
stderr_has "pin through a shared announcer"
expect 2 "unpin over fs" -- "$CLI" unpin --announcer fs
expect 2 "pin without a version" -- "$CLI" pin --announcer redis://127.0.0.1:1
expect 2 "pin of a bad version" -- "$CLI" pin --announcer redis://127.0.0.1:1 abc
stderr_has "abc is not a version"
expect 2 "unpin with a version" -- "$CLI" unpin --announcer redis://127.0.0.1:1 5
expect 0 "pin --help" -- "$CLI" pin --help
expect 0 "consume --help" -- "$CLI" consume --help
grep -q -- "--announcer" "$TMP/out" && ok || bad "consume --help lacks --announcer"

finish
