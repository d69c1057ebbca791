# scenario.sh: sourced first by every scenario script. It gives run,
# copy_in and copy_out (machine.sh) plus checks that print one line each:
#
#   PASS: SCENARIO: NAME
#   FAIL: SCENARIO: NAME: WHY   (followed by indented detail)
#
# and append "PASS NAME" or "FAIL NAME" to E2E_RESULTS, which run.sh
# counts. A check returns non-zero when it fails, so a scenario that cannot
# go on after one writes `assert_ok ... || exit 1`.

set -u
. "$E2E_LIB/machine.sh"

E2E_SCENARIO=${E2E_SCENARIO:-$(basename "$0" .sh)}

_e2e_record() {
	[ -n "${E2E_RESULTS:-}" ] && printf '%s %s\n' "$1" "$2" >>"$E2E_RESULTS"
	return 0
}

# pass NAME records a passed check.
pass() {
	printf 'PASS: %s: %s\n' "$E2E_SCENARIO" "$1"
	_e2e_record PASS "$1"
}

# fail NAME WHY [DETAIL] records a failed check; DETAIL (e.g. a command's
# output) is shown indented, its last 20 lines.
fail() {
	printf 'FAIL: %s: %s: %s\n' "$E2E_SCENARIO" "$1" "$2"
	[ -n "${3:-}" ] && printf '%s\n' "$3" | tail -n 20 | sed 's/^/    | /'
	_e2e_record FAIL "$1"
	return 1
}

# assert_eq NAME WANT GOT
assert_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1"
	else
		fail "$1" "want '$2', got '$3'"
	fi
}

# assert_contains NAME TEXT NEEDLE passes when TEXT holds the fixed string
# NEEDLE.
assert_contains() {
	case $2 in
	*"$3"*) pass "$1" ;;
	*) fail "$1" "no '$3' in the text" "$2" ;;
	esac
}

# assert_ok NAME CMD... passes when CMD (as for run) succeeds inside the
# machine.
assert_ok() {
	local name=$1 out rc=0
	shift
	out=$(run "$@" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "'$*' exited $rc" "$out"
	fi
}

# assert_fails NAME CMD... passes when CMD exits non-zero inside the
# machine, though not from a timeout or a missing machine.
assert_fails() {
	local name=$1 out rc=0
	shift
	out=$(run "$@" 2>&1) || rc=$?
	case $rc in
	0) fail "$name" "'$*' succeeded, want a failure" "$out" ;;
	124 | 125) fail "$name" "'$*' could not run (exit $rc)" "$out" ;;
	*) pass "$name" ;;
	esac
}

# assert_eventually NAME CMD... passes once CMD succeeds inside the
# machine, retrying for up to E2E_EVENTUALLY seconds (10): for what
# happens after a command returns, such as a started service's output
# reaching the journal.
assert_eventually() {
	local name=$1 out rc deadline=$((SECONDS + ${E2E_EVENTUALLY:-10}))
	shift
	while :; do
		rc=0
		out=$(run "$@" 2>&1) || rc=$?
		[ "$rc" -eq 0 ] && break
		if [ "$rc" -eq 125 ]; then
			fail "$name" "'$*' could not run (exit 125)" "$out"
			return
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			fail "$name" "'$*' still exits $rc after ${E2E_EVENTUALLY:-10} s" "$out"
			return
		fi
		sleep 0.2
	done
	pass "$name"
}
