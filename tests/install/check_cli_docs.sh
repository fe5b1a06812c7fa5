#!/usr/bin/env bash
# Issue 18: the generated hollow-cli(1) shows every command, and under it
# every option that `hollow-cli help COMMAND` lists; the top-level options of
# `--help` are in it too; the bash completion offers every command and each
# command's options; libhollow(3) lists every public header.
#   check_cli_docs.sh HOLLOW_CLI HOLLOW_CLI_1 COMPLETION LIBHOLLOW_3 INCLUDE_DIR SOURCE_DIR
set -uo pipefail
CLI=$1 MAN1=$2 COMP=$3 MAN3=$4 INC=$5 SRC=$6
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/tests/cli/lib.sh"

# the page as man shows it, without bold/underline overstrikes
render() { MANWIDTH=200 LC_ALL=C.UTF-8 man -l "$1" 2>"$TMP/man.err" | col -b; }
render "$MAN1" >"$TMP/man1"
[ -s "$TMP/man1" ] && ok || bad "man -l $MAN1 shows nothing: $(cat "$TMP/man.err")"

commands=$("$CLI" --help | awk '/^commands:/ {on = 1; next} on && /^$/ {exit}
                               on && /^  [a-z]/ {print $1}')
[ "$(echo "$commands" | wc -w)" -ge 10 ] && ok || bad "too few commands in --help: $commands"
options_of() { "$CLI" help "$1" | awk '/^  -/ {print $1}' | sort -u; }

# the section of one command: from its heading to the next heading
section() {
  awk -v c="$1" '$0 == "   " c {on = 1; next} on && /^   [a-z]/ {exit}
                 on && /^[A-Z]/ {exit} on {print}' "$TMP/man1"
}
# lacking WANT_FILE TEXT_FILE: the options of WANT_FILE not in TEXT_FILE
lacking() {
  grep -o -- '-[-A-Za-z0-9]*' "$2" | sort -u >"$TMP/have"
  grep -F -x -v -f "$TMP/have" "$1"
}
for c in $commands; do
  section "$c" >"$TMP/sec"
  [ -s "$TMP/sec" ] && ok || { bad "hollow-cli(1) has no section for $c"; continue; }
  options_of "$c" >"$TMP/want"
  miss=$(lacking "$TMP/want" "$TMP/sec")
  [ -z "$miss" ] && ok || bad "hollow-cli(1): $c lacks" $miss
done
"$CLI" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u >"$TMP/want"
[ -s "$TMP/want" ] && ok || bad "--help names no option"
miss=$(lacking "$TMP/want" "$TMP/man1")
[ -z "$miss" ] && ok || bad "hollow-cli(1) lacks" $miss "of --help"

# the completion, driven as bash drives it
complete_words() { # complete_words WORD... -> what TAB offers after them
  bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
           _hollow_cli; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@"
}
offered=$(complete_words hollow-cli "")
miss=$(grep -F -x -v -f <(printf '%s\n' "$offered") <<<"$commands")
[ -z "$miss" ] && ok || bad "completion lacks the commands" $miss
for c in $commands; do
  [ "$c" = help ] && continue
  complete_words hollow-cli "$c" - >"$TMP/offered"
  options_of "$c" >"$TMP/want"
  miss=$(grep -F -x -v -f "$TMP/offered" "$TMP/want")
  [ -z "$miss" ] && ok || bad "completion: $c lacks" $miss
done
[ "$(complete_words hollow-cli consume --store "" | sort | tr '\n' ' ')" = "fs memory s3 " ] &&
  ok || bad "completion: --store offers $(complete_words hollow-cli consume --store "")"
[ "$(complete_words hollow-cli help co)" = consume ] && ok || bad "completion: help co"

# libhollow(3): every public header
render "$MAN3" >"$TMP/man3"
(cd "$INC" && ls hollow/*.h hollow/sys/*.h) | sed 's/.*/<&>/' >"$TMP/want"
miss=$(grep -F -x -v -f <(grep -o '<hollow/[a-z/_]*\.h>' "$TMP/man3") "$TMP/want")
[ -z "$miss" ] && ok || bad "libhollow(3) lacks" $miss
finish cli_docs
