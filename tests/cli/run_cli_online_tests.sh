#!/usr/bin/env bash
# shellcheck disable=SC2015 # `check && ok || bad`: ok never fails
# hollow-cli over a real S3 server (s3rver) and a real redis-server with a
# password, both started here on free loopback ports (scripts/s3.sh,
# scripts/redis.sh) and stopped by PID: consume --store s3 (one-shot and
# --follow over the S3 announcer), inspect --store s3, --announcer redis:// with the password
# from the environment or the URL, pin/unpin, and the errors (wrong S3
# secret, wrong Redis password, rediss://, an unreachable Redis; no secret
# ever printed), and produce over S3 and over Redis. Fails, never skips,
# when a server cannot start.
# usage: run_cli_online_tests.sh HOLLOW_CLI DIST_PRODUCER   (PYTHON: the interpreter)
set -uo pipefail
CLI=${1:?usage: run_cli_online_tests.sh HOLLOW_CLI DIST_PRODUCER}
PRODUCER=${2:?usage: run_cli_online_tests.sh HOLLOW_CLI DIST_PRODUCER}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d)
export S3_STATE=$TMP/s3 S3_FRESH=1 S3_PORT=0 S3_BUCKET=hollow-cli-online
export REDIS_STATE=$TMP/redis REDIS_PORT=0
RPW='pw-Zq81x/+@secret'    # a password with characters a URL must encode
export REDIS_PASSWORD=$RPW # scripts/redis.sh: --requirepass
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  "$ROOT/scripts/redis.sh" stop >/dev/null 2>&1 || true
  "$ROOT/scripts/s3.sh" stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

"$ROOT/scripts/s3.sh" start >"$TMP/s3.start" 2>&1 || { cat "$TMP/s3.start"; echo "FAIL: S3 did not start"; exit 1; }
"$ROOT/scripts/redis.sh" start >"$TMP/redis.start" 2>&1 || { cat "$TMP/redis.start"; echo "FAIL: redis did not start"; exit 1; }
unset REDIS_PASSWORD
EP=127.0.0.1:$(cat "$S3_STATE/port")
RURL=redis://127.0.0.1:$(cat "$REDIS_STATE/port")
S3=(--store s3 --endpoint "$EP" --bucket "$S3_BUCKET")

# no secret in the last command's output
no_secret() {
  if grep -qF -- "$1" "$TMP/out" "$TMP/err"; then bad "$2: the secret was printed"; else ok; fi
}
wait_lines() {
  for _ in $(seq 300); do
    [ "$(wc -l <"$1")" -ge "$2" ] && return 0
    sleep 0.1
  done
  return 1
}

# --- S3 store, S3 announcer (the default for --store s3)
expect 0 "dist_producer over S3" -- "$PRODUCER" "${S3[@]}" --prefix a --cache-dir "$TMP/pc" --cycles 3 --interval-ms 0
cp "$TMP/out" "$TMP/p3"
[ "$(wc -l <"$TMP/p3")" -eq 3 ] && ok || bad "dist_producer printed $(wc -l <"$TMP/p3") versions"
V1=$(sed -n 1p "$TMP/p3" | awk '{print $2}')
V3=$(sed -n 3p "$TMP/p3" | awk '{print $2}')
expect 0 "consume --store s3 (a fresh cache)" -- "$CLI" consume "${S3[@]}" --prefix a --cache-dir "$TMP/c1"
[ "$(cat "$TMP/out")" = "$(printf 'version %s\nActor 3\nMovie 8' "$V3")" ] && ok ||
  bad "consume --store s3: $(tr '\n' ' ' <"$TMP/out")"
expect 0 "consume -store=s3 -version=V1 (Go form)" -- "$CLI" consume -store=s3 -endpoint="$EP" -bucket="$S3_BUCKET" -prefix=a -cache-dir="$TMP/c1" -version="$V1"
head -1 "$TMP/out" | grep -qx "version $V1" && ok || bad "--version over S3: $(head -1 "$TMP/out")"
expect 1 "consume --store s3 of an empty prefix" -- "$CLI" consume "${S3[@]}" --prefix empty --cache-dir "$TMP/c2"

# --follow over the S3 announcer: the announced version, then a new one
"$CLI" consume "${S3[@]}" --prefix a --cache-dir "$TMP/c3" --follow --json >"$TMP/f" 2>"$TMP/f.err" &
fpid=$!
PIDS+=("$fpid")
wait_lines "$TMP/f" 1 || bad "--follow over S3 printed nothing"
expect 0 "dist_producer: one more cycle (restored)" -- "$PRODUCER" "${S3[@]}" --prefix a --cache-dir "$TMP/pc" --cycles 1
P4=$(cat "$TMP/out")
wait_lines "$TMP/f" 2 || bad "--follow over S3 did not reach the new version"
kill -TERM "$fpid"; wait "$fpid"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "--follow over S3: exit $rc after SIGTERM"
# the JSON says what the producer's lines say
if ${PYTHON:-python3} - "$TMP/f" "$(sed -n 3p "$TMP/p3")" "$P4" <<'PY'
import json, sys
js = [json.loads(l) for l in open(sys.argv[1])]
assert len(js) == 2, js
for j, line in zip(js, sys.argv[2:]):
    t = line.split()
    assert j["version"] == int(t[1]) and j["checksum"] == t[3], (j, t)
    assert ["%s=%d" % kv for kv in j["types"].items()] == t[4:], (j, t)
PY
then ok; else bad "--follow --json over S3: $(cat "$TMP/f")"; fi

# inspect over S3: the versions the producer printed, each reachable by a
# plan, with its blobs; and the announced version's per-type counts
expect 0 "inspect --store s3 --json" -- "$CLI" inspect "${S3[@]}" --prefix a --cache-dir "$TMP/ci" --json
if ${PYTHON:-python3} - "$TMP/out" "$TMP/p3" "$P4" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = [int(l.split()[1]) for l in open(sys.argv[2])] + [int(sys.argv[3].split()[1])]
assert [v["version"] for v in d["versions"]] == want, (d["versions"], want)
assert d["store"] == "s3" and d["announced"] == want[-1], d
assert all(v["reachable"] and v["plan"][0].startswith("snapshot-")
           for v in d["versions"]) and d["broken"] == [], d
assert all(b["size"] > 0 for v in d["versions"] for b in v["blobs"]), d
PY
then ok; else bad "inspect --store s3: $(head -c 300 "$TMP/out")"; fi
expect 0 "inspect --store s3 --version 0" -- "$CLI" inspect "${S3[@]}" --prefix a --cache-dir "$TMP/ci" --version 0 --json
if ${PYTHON:-python3} - "$TMP/out" "$P4" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = sys.argv[2].split()
assert d["version"] == int(t[1]) and d["announced"] == int(t[1]), d
assert ["%s=%d" % (x["name"], x["records"]) for x in sorted(d["types"], key=lambda x: x["name"])] == t[4:], (d, t)
PY
then ok; else bad "inspect --store s3 --version 0: $(head -c 300 "$TMP/out")"; fi

# a wrong secret key: S3's error, never the key
AWS_SECRET_ACCESS_KEY=wrong-Secret-7731 expect 1 "a wrong S3 secret" -- "$CLI" consume "${S3[@]}" --prefix a --cache-dir "$TMP/c4"
stderr_has "SignatureDoesNotMatch"
no_secret wrong-Secret-7731 "a wrong S3 secret"

# objects another tool wrote (no x-amz-meta-sha256): read, and --verbose says unverified
expect 0 "dist_producer over fs" -- "$PRODUCER" --store fs --dir "$TMP/fsrc" --cycles 1
U1=$(awk '{print $2}' "$TMP/out")
for f in "snapshot-$U1:snapshots" "header-$U1:headers"; do
  curl -sf -o /dev/null -T "$TMP/fsrc/${f%%:*}" "http://$EP/$S3_BUCKET/u/${f#*:}/${f%%:*}" || bad "curl put ${f%%:*}"
done
curl -sf -o /dev/null -T "$TMP/fsrc/announced.version" "http://$EP/$S3_BUCKET/u/announced.version" || bad "curl put announced.version"
expect 0 "consume --verbose of objects without metadata" -- "$CLI" consume "${S3[@]}" --prefix u --cache-dir "$TMP/cu" --verbose
head -1 "$TMP/out" | grep -qx "version $U1" && ok || bad "unverified objects: $(head -1 "$TMP/out")"
stderr_has "accepted unverified"
# a cache dir serves one bucket and prefix: another dataset's names would collide
expect 1 "a cache dir of another prefix" -- "$CLI" consume "${S3[@]}" --prefix a --cache-dir "$TMP/cu"
stderr_has "give each bucket and prefix its own cache dir"

# --- Redis announcer with a password (S3 store)
export HOLLOW_REDIS_PASSWORD=$RPW
expect 0 "dist_producer with --announcer redis" -- "$PRODUCER" "${S3[@]}" --prefix r --cache-dir "$TMP/pr" --s3-strict --announcer "$RURL" --cycles 3 --interval-ms 0
cp "$TMP/out" "$TMP/pr3"
R1=$(sed -n 1p "$TMP/pr3" | awk '{print $2}')
R3=$(sed -n 3p "$TMP/pr3" | awk '{print $2}')
no_secret "$RPW" "dist_producer"
expect 0 "consume --announcer redis (password from the environment)" -- "$CLI" consume "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$RURL"
head -1 "$TMP/out" | grep -qx "version $R3" && ok || bad "consume over Redis: $(head -1 "$TMP/out")"
expect 0 "pin over Redis" -- "$CLI" pin --announcer "$RURL" "$R1"
grep -qx "pinned $R1" "$TMP/out" && ok || bad "pin output: $(cat "$TMP/out")"
expect 0 "consume sees the pin" -- "$CLI" consume "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$RURL"
head -1 "$TMP/out" | grep -qx "version $R1" && ok || bad "consume under a pin: $(head -1 "$TMP/out")"
# inspect names both: the announced version and the pin, which -version=0 loads
expect 0 "inspect under a pin" -- "$CLI" inspect "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$RURL"
head -1 "$TMP/out" | grep -q "announced $R3, pinned $R1$" && ok || bad "inspect under a pin: $(head -1 "$TMP/out")"
grep -qx "version $R1 (pinned)" "$TMP/out" && grep -qx "version $R3 (announced)" "$TMP/out" && ok ||
  bad "inspect marks: $(grep '^version' "$TMP/out" | tr '\n' ' ')"
expect 0 "inspect -version=0 under a pin" -- "$CLI" inspect "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$RURL" -version=0
head -1 "$TMP/out" | grep -qx "version $R1 (pinned)" && ok || bad "inspect -version=0 under a pin: $(head -1 "$TMP/out")"
# a follower started under the pin prints the pinned version, then the
# latest on unpin
"$CLI" consume "${S3[@]}" --prefix r --cache-dir "$TMP/c6" --announcer "$RURL" --follow >"$TMP/g" 2>"$TMP/g.err" &
gpid=$!
PIDS+=("$gpid")
wait_lines "$TMP/g" 1 || bad "--follow under a pin printed nothing"
expect 0 "unpin over Redis" -- "$CLI" unpin --announcer "$RURL"
wait_lines "$TMP/g" 2 || bad "--follow did not move on unpin"
kill -INT "$gpid"; wait "$gpid"; rc=$?
[ "$rc" -eq 0 ] && ok || bad "--follow over Redis: exit $rc after SIGINT"
[ "$(cat "$TMP/g")" = "$(sed -n '1p;3p' "$TMP/pr3")" ] && ok ||
  { bad "--follow over Redis, pinned then unpinned:"; cat "$TMP/g"; }
expect 0 "unpin with nothing pinned" -- "$CLI" unpin --announcer "$RURL"
stderr_has "nothing was pinned"
# another key prefix is another dataset: its pin leaves this one alone
expect 0 "pin under --redis-prefix" -- "$CLI" pin --announcer "$RURL" --redis-prefix other: "$R1"
expect 0 "consume under --redis-prefix" -- "$CLI" consume "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$RURL" --redis-prefix other:
head -1 "$TMP/out" | grep -qx "version $R1" && ok || bad "--redis-prefix pin: $(head -1 "$TMP/out")"
expect 0 "consume under the default prefix" -- "$CLI" consume "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$RURL"
head -1 "$TMP/out" | grep -qx "version $R3" && ok || bad "default prefix under another's pin: $(head -1 "$TMP/out")"
expect 2 "--redis-prefix without a Redis announcer" -- "$CLI" consume "${S3[@]}" --redis-prefix x:
stderr_has "--redis-prefix goes with --announcer redis"

# gc over S3 + Redis: 6 versions, snapshots at the 1st and the 6th
# (dist_producer: 4 states between snapshots); --keep 1 drops the first
# snapshot, unless a version before the 6th is pinned: its chain stays
expect 0 "dist_producer: 6 versions for gc" -- "$PRODUCER" "${S3[@]}" --prefix g --cache-dir "$TMP/pg" --s3-strict --announcer "$RURL" --redis-prefix g: --cycles 6 --interval-ms 0
G1=$(sed -n 1p "$TMP/out" | awk '{print $2}')
G2=$(sed -n 2p "$TMP/out" | awk '{print $2}')
G6=$(sed -n 6p "$TMP/out" | awk '{print $2}')
GC=(gc "${S3[@]}" --prefix g --cache-dir "$TMP/cg" --announcer "$RURL" --redis-prefix g: --keep 1)
expect 0 "pin G2 for gc" -- "$CLI" pin --announcer "$RURL" --redis-prefix g: "$G2"
expect 0 "gc --keep 1 --dry-run under a pin" -- "$CLI" "${GC[@]}" --dry-run
stderr_has "pinned $G2: its chain stays"
grep -q "snapshot-$G1" "$TMP/out" && bad "gc would remove the pinned chain's snapshot-$G1" || ok
grep -q "delta-$G1-$G2" "$TMP/out" && bad "gc would remove the pinned chain's delta-$G1-$G2" || ok
expect 0 "unpin for gc" -- "$CLI" unpin --announcer "$RURL" --redis-prefix g:
expect 0 "gc --keep 1" -- "$CLI" "${GC[@]}"
grep -qx "removed snapshot-$G1" "$TMP/out" && ok || bad "gc --keep 1 kept snapshot-$G1: $(tr '\n' ' ' <"$TMP/out")"
grep -q "snapshot-$G6" "$TMP/out" && bad "gc removed the announced snapshot-$G6" || ok
expect 0 "consume after gc over S3" -- "$CLI" consume "${S3[@]}" --prefix g --cache-dir "$TMP/cg2" --announcer "$RURL" --redis-prefix g:
head -1 "$TMP/out" | grep -qx "version $G6" && ok || bad "consume after gc: $(head -1 "$TMP/out")"
expect 1 "consume of a removed version" -- "$CLI" consume "${S3[@]}" --prefix g --cache-dir "$TMP/cg3" --announcer "$RURL" --redis-prefix g: --version "$G1"
# the S3 announcer keeps no lease: gc says so and goes on
expect 0 "gc over the S3 announcer" -- "$CLI" gc "${S3[@]}" --prefix a --cache-dir "$TMP/c1" --dry-run
stderr_has "keeps no lease"

# the password in the URL instead (percent-encoded)
unset HOLLOW_REDIS_PASSWORD
EURL=redis://:$(${PYTHON:-python3} -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$RPW")@${RURL#redis://}
expect 0 "consume with the password in the URL" -- "$CLI" consume "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$EURL"
head -1 "$TMP/out" | grep -qx "version $R3" && ok || bad "password in the URL: $(head -1 "$TMP/out")"
expect 1 "no password" -- "$CLI" consume "${S3[@]}" --prefix r --cache-dir "$TMP/c5" --announcer "$RURL"
stderr_has "NOAUTH"
HOLLOW_REDIS_PASSWORD=wrong-Pw-5521 expect 1 "a wrong Redis password" -- "$CLI" pin --announcer "$RURL" "$R1"
stderr_has "refused"
no_secret wrong-Pw-5521 "a wrong Redis password"
expect 1 "a wrong password in the URL" -- "$CLI" unpin --announcer "redis://:Url-Pw-9090@${RURL#redis://}"
no_secret Url-Pw-9090 "a wrong password in the URL"
expect 1 "rediss://" -- "$CLI" pin --announcer "rediss://127.0.0.1:1" 5
stderr_has "TLS"
expect 2 "an unknown scheme with credentials" -- "$CLI" unpin --announcer "Redis://:Url-Pw-9191@127.0.0.1:1"
no_secret Url-Pw-9191 "an unknown scheme with credentials"
expect 1 "an unreachable Redis" -- "$CLI" unpin --announcer redis://127.0.0.1:1
stderr_has "hollow-cli unpin: the Redis announcer"

# --- produce over S3 (issue 15): a version, a delta, nothing for the same
# data, and a fresh consumer reads the new records; then over Redis
FX=$ROOT/tests/fixtures/go-hollow
PEOPLE=$ROOT/tests/fixtures/capnp/people.capnp
expect 0 "produce over S3" -- "$CLI" produce "${S3[@]}" --prefix prod --cache-dir "$TMP/prodc1" \
  --schema "$PEOPLE" --data "$FX/person_data.json"
P1=$(cat "$TMP/out")
expect 0 "produce v2 over S3" -- "$CLI" produce "${S3[@]}" --prefix prod --cache-dir "$TMP/prodc1" \
  --schema "$PEOPLE" --data "$FX/person_data_v2.json" --verbose
P2=$(cat "$TMP/out")
[ "$P2" -gt "$P1" ] && ok || bad "produce over S3: $P2 after $P1"
stderr_has "wrote delta-$P1-$P2: "
expect 0 "produce the same data over S3" -- "$CLI" produce "${S3[@]}" --prefix prod \
  --cache-dir "$TMP/prodc2" --schema "$PEOPLE" --data "$FX/person_data_v2.json"
[ "$(cat "$TMP/out")" = "$P2" ] && ok || bad "unchanged data over S3 printed $(cat "$TMP/out")"
expect 0 "consume what produce wrote to S3" -- "$CLI" consume "${S3[@]}" --prefix prod \
  --cache-dir "$TMP/prodc3" --deep Person
grep -qF 'alice.johnson@example.com' "$TMP/out" && ok || bad "S3 consume lacks produce's v2 record"
expect 0 "produce over S3 with the Redis announcer" -- env HOLLOW_REDIS_PASSWORD="$RPW" \
  "$CLI" produce "${S3[@]}" --prefix prodr --cache-dir "$TMP/prodc4" --announcer "$RURL" \
  --redis-prefix prodr: --schema "$PEOPLE" --data "$FX/person_data.json"
P3=$(cat "$TMP/out")
expect 0 "consume that version through Redis" -- env HOLLOW_REDIS_PASSWORD="$RPW" \
  "$CLI" consume "${S3[@]}" --prefix prodr --cache-dir "$TMP/prodc5" --announcer "$RURL" \
  --redis-prefix prodr:
head -1 "$TMP/out" | grep -qx "version $P3" && ok || bad "consume over Redis: $(head -1 "$TMP/out")"

# --- usage errors of the S3 options
expect 2 "--store s3 without --bucket" -- "$CLI" consume --store s3 --endpoint "$EP"
stderr_has "--store s3 needs --bucket"
expect 2 "--store s3 with --dir" -- "$CLI" consume "${S3[@]}" --dir "$TMP"
stderr_has "--dir does not apply to --store s3"
expect 2 "--announcer fs with --store s3" -- "$CLI" consume "${S3[@]}" --announcer fs
expect 2 "--announcer s3 with --store fs" -- "$CLI" consume --dir "$TMP" --announcer s3
stderr_has "--announcer s3 needs --store s3"
expect 2 "pin over s3" -- "$CLI" pin --announcer s3 5

finish
