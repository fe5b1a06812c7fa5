#!/usr/bin/env bash
# Runs the hollow-cli binary: option forms, exit codes, error messages.
# usage: run_cli_tests.sh HOLLOW_CLI TESTS_DIR
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

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
