# Shared by the tests/cli/run_*.sh scripts (sourced): pass/fail counts and
# the checks on the last command. The script sets TMP before calling them.
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect CODE DESCRIPTION -- command...   (stdout in $TMP/out, stderr in $TMP/err)
expect() {
  local want=$1 desc=$2
  shift 3
  "$@" >"$TMP/out" 2>"$TMP/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else
    bad "$desc: exit $got, want $want"; head -5 "$TMP/err"; fi
}
# the last command's stderr contains TEXT
stderr_has() {
  if grep -qF -- "$1" "$TMP/err"; then ok; else
    bad "stderr lacks '$1':"; head -5 "$TMP/err"; fi
}
# print the totals (with an optional label) and succeed only without failures
finish() {
  echo "${1:+$1: }$pass passed, $fail failed"
  [ "$fail" -eq 0 ]
}
