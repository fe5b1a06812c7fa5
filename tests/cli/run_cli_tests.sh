#!/usr/bin/env bash
# Runs the hollow-cli binary: option forms, exit codes, error messages.
# usage: run_cli_tests.sh HOLLOW_CLI TESTS_DIR   (PYTHON: the interpreter)
set -uo pipefail
CLI=$1
TESTS=$2
G=$TESTS/golden
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0
fail=0

# expect CODE DESCRIPTION -- command...   (stdout in $TMP/out, stderr in $TMP/err)
expect() {
  local want=$1 desc=$2
  shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    echo "FAIL: $desc: exit $got, want $want"
    head -5 "$TMP/err"
  fi
}
# the last command's stderr/stdout must contain TEXT
stderr_has() {
  if grep -qF -- "$1" "$TMP/err"; then pass=$((pass + 1)); else
    fail=$((fail + 1)); echo "FAIL: stderr lacks '$1':"; head -3 "$TMP/err"; fi
}
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
expect 0 "inspect" -- "$CLI" inspect --records 1 "$G/b_collections/snapshot-20250101000000001"
grep -q "type Person" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: inspect output"; }

# schema command: valid files, and a parse error with FILE:line:column
expect 0 "schema valid" -- "$CLI" schema "$G/b_collections/schema.hollow"
printf 'Movie {\n  int id;\n  string title\n}\n' >"$TMP/bad.hollow"
expect 1 "schema parse error" -- "$CLI" schema "$TMP/bad.hollow"
stderr_has "$TMP/bad.hollow:4:1:"
expect 0 "schema --print round trip" -- "$CLI" schema --print "$G/b_collections/schema.hollow"
stdout_is_file "$G/b_collections/schema.hollow"

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
expect 1 "filter --exclude a referenced type" -- "$CLI" filter --exclude Person "$B" "$TMP/exc"
stderr_has "cannot exclude Person: referenced by"
stderr_has "Group"
expect 0 "filter --exclude a top-level type" -- "$CLI" filter --exclude Group "$B" "$TMP/exc"
"$CLI" inspect --records 0 "$TMP/exc" >"$TMP/out"
if ! grep -q "type Group" "$TMP/out" && grep -q "type Person" "$TMP/out"; then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: --exclude Group"; fi
expect 1 "filter of a missing file" -- "$CLI" filter "$TMP/nope" "$TMP/x"
expect 2 "filter without OUT" -- "$CLI" filter "$B"

# consume: every version of every vector directory, as Java wrote it
if out=$(${PYTHON:-python3} "$TESTS/cli/consume_vectors.py" "$CLI" "$G"); then
  pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: consume over the vectors:"; echo "$out" | tail -20; fi
expect 2 "consume without --dir" -- "$CLI" consume --store fs
expect 1 "consume of a missing directory" -- "$CLI" consume --store fs --dir "$TMP/none"
expect 1 "consume of an unreachable version" -- "$CLI" consume --dir "$G/a_primitives" --version 42
stderr_has "no snapshot and delta chain"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
