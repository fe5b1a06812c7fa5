#!/usr/bin/env bash
# hollow-cli on the memory store: the seed's command lines verbatim, the
# shell, help COMMAND, Go booleans, failed writes to stdout, schema
# positions; and the new-user fixes of the examples and hollow-bench.
# usage: run_shell_tests.sh HOLLOW_CLI TESTS_DIR PRODUCER_CONSUMER READ_TITLES HOLLOW_BENCH
set -uo pipefail
CLI=$1
TESTS=$2
PRODUCER_CONSUMER=$3
READ_TITLES=$4
BENCH=${5:?usage: run_shell_tests.sh HOLLOW_CLI TESTS_DIR PRODUCER_CONSUMER READ_TITLES HOLLOW_BENCH}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# has FILE REGEX DESCRIPTION: a line of FILE matches the extended regex
has() {
  if grep -qE -- "$2" "$TMP/$1"; then ok; else
    bad "$3: $1 lacks /$2/:"; head -8 "$TMP/$1"; fi
}
hasnt() {
  if grep -qE -- "$2" "$TMP/$1"; then bad "$3: $1 has /$2/"; else ok; fi
}

# ------------------------------------------------- the seed's lines verbatim
# (issue 16 item 5), run in a directory with a test.capnp, the memory store
# being the default; each process has its own store: versions 1, 2, 3
W=$TMP/seed
mkdir -p "$W"
cat >"$W/test.capnp" <<'EOF'
@0xdbb9ad1f14bf0b36;

struct Movie {
  id @0 :Int64;
  title @1 :Text;
  year @2 :Int32;
  actors @3 :List(Actor);
}

struct Actor {
  id @0 :Int32;
  name @1 :Text;
}
EOF
cd "$W" || exit 1

expect 0 "seed: produce" -- "$CLI" -command=produce -store=memory -verbose
cat "$TMP/out" "$TMP/err" >"$TMP/all"
has all "version 4" "produce publishes the sample's next version"
has all "Movie" "produce -verbose names the types"

expect 0 "seed: consume" -- "$CLI" -command=consume -store=memory -version=0 -verbose
has out "^version 3$" "consume -version=0 is the latest"
has out "^Movie 1000$" "consume counts the movies"
has err "snapshot-3" "consume -verbose shows the plan"

expect 0 "seed: inspect -store=memory -version=0" -- "$CLI" -command=inspect -store=memory -version=0
has out "3" "inspect -version=0 shows version 3"
has out "Movie" "inspect lists the types"

expect 0 "seed: diff 1 2" -- "$CLI" -command=diff -store=memory -version=1 -target=2
has out "Movie" "diff names Movie"
has out "5 added" "diff: 5 movies added"
has out "5 removed" "diff: 5 movies removed"
has out "5 changed" "diff: 5 movies changed"

expect 0 "seed: schema test.capnp" -- "$CLI" -command=schema -data=test.capnp -verbose
has out "test.capnp: Movie OBJECT" "schema -verbose lists Movie"
has out "test.capnp: Actor OBJECT" "schema -verbose lists Actor"

expect 0 "seed: inspect -verbose" -- "$CLI" -command=inspect -verbose
has out "1" "inspect lists version 1"
has out "3" "inspect lists version 3"

expect 1 "seed: inspect -version=5" -- "$CLI" -command=inspect -version=5 -verbose
has err "no version 5; versions are 1, 2, 3" "inspect: no version 5"

expect 1 "seed: diff 1 5" -- "$CLI" -command=diff -version=1 -target=5 -verbose
has err "version 5" "diff names the missing version"
cd "$TMP" || exit 1

# ----------------------------------------------------------------- -version
expect 0 "consume --version 0 = latest" -- "$CLI" consume --version 0
has out "^version 3$" "--version 0"
expect 0 "consume --version 1" -- "$CLI" consume --version 1
has out "^version 1$" "--version 1 of the sample"
expect 0 "--help says -version=0 is the latest" -- "$CLI" --help
has out "means the latest" "top-level help on version 0"

# ------------------------------------------------------------------- shell
cat >"$TMP/script" <<'EOF'
# a comment, then an empty line

versions
consume --version 2
pin 1
versions
consume
unpin
consume -verbose=false
consume --type "Movie"
-command=consume --version=2
help pin
EOF
"$CLI" shell <"$TMP/script" >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "shell script: exit $rc"
# versions: three, with the announced one marked
has out "^1 +snapshot header$" "versions: version 1"
has out "^3 +snapshot delta reverse-delta header +\(announced\)$" "versions: 3 announced"
has out "^1 +snapshot header +\(pinned\)$" "versions after pin 1"
has out "^pinned 1$" "pin in the shell"
has out "^unpinned$" "unpin in the shell"
# the consume lines, in order: 2, 1 (pinned), 3, 3, 2
grep '^version ' "$TMP/out" | tr '\n' ' ' >"$TMP/seq"
[ "$(cat "$TMP/seq")" = "version 2 version 1 version 3 version 3 version 2 " ] && ok ||
  bad "shell: versions consumed: $(cat "$TMP/seq")"
has out "usage: hollow-cli pin" "help pin in the shell"
hasnt out "hollow>" "no prompt from a pipe"
[ -s "$TMP/err" ] && bad "shell script wrote to stderr: $(head -3 "$TMP/err")" || ok

# produce in the shell: the next version is 4, then 5, and consume sees it
printf 'produce\nproduce -verbose\nconsume\nversions\n' | "$CLI" shell >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "shell produce: exit $rc"
has out "^4$" "shell: first produce prints its version"
has out "^5$" "shell: second produce"
has err "^version 5 from 4" "shell: produce -verbose"
has err "^Movie: 10 added, 10 removed, 990 kept$" "shell: produce -verbose per type (a changed record is a new one)"
has err "^wrote delta-4-5: [0-9]+ bytes$" "shell: produce -verbose blobs"
has out "^version 5$" "shell: consume after produce"
has out "^5 +snapshot delta reverse-delta header +\(announced\)$" "versions after produce"

# produce with data on the memory store: a producer with the sample's
# counter minter, continuing its chain; the sample's rule goes on after it
printf '{"id":1,"name":"a"}\n{"id":2,"name":"b"}\n' >"$TMP/people.jsonl"
printf 'produce --data %s\nconsume\nproduce\nconsume --version 4\n' "$TMP/people.jsonl" |
  "$CLI" shell >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "shell produce --data: exit $rc"
has out "^4$" "produce --data on the memory store: version 4"
has out "^People 2$" "consume of the data version"
has out "^5$" "the sample's next version after data"
grep -c "^People 2$" "$TMP/out" | grep -qx 2 && ok || bad "consume --version 4 after 5"

# diff inside the shell, across versions produced there
printf 'produce\ndiff --version 3 --target 4\n' | "$CLI" shell >"$TMP/out" 2>"$TMP/err"
has out "Movie" "shell: diff 3 4"

# errors in the shell: reported, the shell goes on, the exit code is the last's
printf 'bogus\nconsume --version 1\n' | "$CLI" shell >"$TMP/out" 2>"$TMP/err"
rc=$?
[ "$rc" -eq 0 ] && ok || bad "shell: exit $rc after a later success"
has err "bogus: not a shell command" "shell: unknown command"
has out "^version 1$" "shell: goes on after an error"
printf 'consume --version 1\nconsume --bogus\n' | "$CLI" shell >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && ok || bad "shell: the last command's usage error is the exit code"
printf "consume --type 'Mo\n" | "$CLI" shell >"$TMP/out" 2>"$TMP/err"
has err "unterminated ' quote" "shell: quotes"
printf 'consume --follow\n' | "$CLI" shell >"$TMP/out" 2>"$TMP/err"
has err "outside the shell" "shell: no --follow"
printf 'quit\nconsume\n' | "$CLI" shell >"$TMP/out" 2>"$TMP/err"
[ -s "$TMP/out" ] && bad "shell: ran a command after quit" || ok
# on a terminal (script(1) gives it one): banner, prompt, libedit
if command -v script >/dev/null; then
  (printf 'versions\r'; sleep 1; printf 'quit\r'; sleep 1) |
    timeout 20 script -qec "$CLI shell" /dev/null >"$TMP/out" 2>&1
  has out "hollow> versions" "shell on a terminal: the prompt"
  has out "^3 +snapshot delta reverse-delta header +\(announced\)" "shell on a terminal: versions"
  has out "help. lists the commands" "shell on a terminal: the banner"
fi
expect 0 "shell --help" -- "$CLI" shell --help
has out "versions" "shell --help lists versions"
expect 2 "shell with an argument" -- "$CLI" shell extra

# outside the shell, pin needs --announcer; with one, the memory store
# (the default store) has nothing to do with it
expect 2 "pin without --announcer" -- "$CLI" pin 2
expect 1 "pin --announcer redis (nothing listening)" -- "$CLI" pin --announcer redis://127.0.0.1:1 2
has err "the Redis announcer" "pin goes to the Redis announcer"
hasnt err "memory" "pin: not the memory store"
expect 2 "--store memory --announcer redis" -- "$CLI" consume --store memory --announcer redis://127.0.0.1:1
has err "does not apply" "memory store with another announcer"
expect 2 "--store memory --dir" -- "$CLI" consume --store memory --dir "$TMP"
expect 2 "--store bogus" -- "$CLI" consume --store bogus
has err "unknown store \(memory, fs or s3\)" "--store bogus"

# --------------------------------------------------------------- help COMMAND
expect 0 "help consume" -- "$CLI" help consume
has out "usage: hollow-cli consume" "help consume prints consume's help"
expect 0 "help schema" -- "$CLI" help schema
has out "usage: hollow-cli schema" "help schema"
expect 0 "help produce" -- "$CLI" help produce
has out "usage: hollow-cli produce" "help produce prints produce's help"
expect 0 "help" -- "$CLI" help
has out "^commands:" "help lists the commands"
expect 2 "help of an unknown command" -- "$CLI" help frobnicate
has err "unknown command 'frobnicate'" "help frobnicate"
expect 0 "-command=help form" -- "$CLI" -command=help consume
has out "usage: hollow-cli consume" "-command=help consume"

# ----------------------------------------------------------- Go booleans
expect 0 "-verbose=true" -- "$CLI" consume -verbose=true
has err "refresh 0 -> 3" "-verbose=true is -verbose"
expect 0 "-verbose=false" -- "$CLI" consume -verbose=false
hasnt err "refresh" "-verbose=false is no -verbose"
expect 0 "--verbose=1" -- "$CLI" consume --verbose=1
has err "refresh 0 -> 3" "--verbose=1"
expect 2 "-verbose=maybe" -- "$CLI" consume -verbose=maybe
has err "option --verbose takes true or false, not \"maybe\"" "-verbose=maybe"
expect 0 "-help=false" -- "$CLI" consume -help=false
has out "^version 3$" "-help=false runs the command"

# ---------------------------------------------- write errors on stdout
if [ -w /dev/full ]; then
  S=$TESTS/golden/a_primitives/snapshot-20250101000000001
  for args in "consume" "consume --dump" "dump $S" "inspect $S" "--help" \
              "help consume" "schema --print $TESTS/fixtures/capnp/movies.capnp" \
              "produce" "diff --version 1 --target 2" "inspect"; do
    # shellcheck disable=SC2086
    "$CLI" $args >/dev/full 2>"$TMP/err"
    rc=$?
    [ "$rc" -eq 1 ] && ok || bad "$args >/dev/full: exit $rc, want 1"
    has err "cannot write the output: No space left on device" "$args >/dev/full"
    [ "$(wc -l <"$TMP/err")" -eq 1 ] && ok || bad "$args >/dev/full: $(cat "$TMP/err")"
  done
  printf 'consume\n' | "$CLI" shell >/dev/full 2>"$TMP/err"
  [ $? -eq 1 ] && ok || bad "shell >/dev/full"
  has err "consume: cannot write the output" "shell >/dev/full"
fi

# ------------------------------------------------ schema errors with positions
printf 'Actor { int id; }\n  Movie @PrimaryKey(id) {\n  long id;\n  Nope n;\n}\n' >"$TMP/bad.hollow"
expect 1 "schema: unknown type" -- "$CLI" schema "$TMP/bad.hollow"
has err "bad.hollow:2:3: type Movie: field n references unknown type Nope" "schema: position of the declaration"
printf 'A @PrimaryKey(zz) {\n  long id;\n}\n' >"$TMP/bad2.hollow"
expect 1 "schema: bad key" -- "$CLI" schema "$TMP/bad2.hollow"
has err "bad2.hollow:1:1: type A: key path zz: type A has no field zz" "schema: key path position"

# ------------------------------------------------- examples and hollow-bench
mkdir -p "$TMP/pc" && cd "$TMP/pc" || exit 1
expect 0 "producer_consumer --help" -- "$PRODUCER_CONSUMER" --help
has out "usage: producer_consumer DIR" "producer_consumer --help"
[ -e "$TMP/pc/--help" ] && bad "producer_consumer --help created a directory" || ok
expect 2 "producer_consumer -x" -- "$PRODUCER_CONSUMER" -x
[ -z "$(ls -A "$TMP/pc")" ] && ok || bad "producer_consumer made $(ls -A "$TMP/pc")"
expect 2 "producer_consumer DIR junk" -- "$PRODUCER_CONSUMER" "$TMP/pc/d" 12x
cd "$TMP" || exit 1

for sub in movies chain announcer s3 import types; do
  expect 0 "hollow-bench $sub --help" -- "$BENCH" "$sub" --help
  has out "usage: hollow-bench $sub" "bench $sub --help on stdout"
done
expect 2 "hollow-bench chain (no snapshot)" -- "$BENCH" chain

expect 0 "read_titles (README snippet)" -- "$READ_TITLES" \
  "$TESTS/golden/e_schema_change/snapshot-20250101000000001"
has out "^Movie 0$" "read_titles prints the titles"
[ "$(wc -l <"$TMP/out")" -eq 30 ] && ok || bad "read_titles: $(wc -l <"$TMP/out") titles, want 30"
expect 1 "read_titles without a Movie type" -- "$READ_TITLES" \
  "$TESTS/golden/a_primitives/snapshot-20250101000000001"
has err "no Movie type with a title field" "read_titles: the absent type"

# make run: only what the demo runs, quietly; the demo ends with what to try
ROOT=$(cd "$TESTS/.." && pwd)
make -n -C "$ROOT" run >"$TMP/out" 2>&1
has out "--target hollow-cli producer_consumer" "make run builds only the demo's targets"
has out "make-run.log" "make run keeps the build log out of the way"
BUILD=$(dirname "$CLI")
HOLLOW_DEMO_STORE=$TMP/demo-store bash "$ROOT/scripts/run-demo.sh" "$BUILD" >"$TMP/out" 2>&1
rc=$?
[ "$rc" -eq 0 ] && ok || bad "run-demo.sh: exit $rc"
has out "yyyyMMddHHmmss in UTC followed" "the demo says what the long versions are"
has out "^== what to try next" "the demo ends with what to try next"
has out "Movie \(key id\): 5 added, 5 removed, 5 changed" "the demo shows the memory store"
[ "$(wc -l <"$TMP/out")" -lt 120 ] && ok || bad "the demo prints $(wc -l <"$TMP/out") lines"

finish "shell tests"
