#!/usr/bin/env bash
# Boots a 3-guest cluster with omcluster and checks each guest answers with
# our kernel and its own node identity; the agent's exec and cp; refusals;
# a command whose caller is killed;
# a guest that panics and one that never answers fail `up` cleanly; `down`
# leaves nothing behind.
#
# usage: cluster-boot.sh OMCLUSTER BUILD_ROOT
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2" boot

release=$(cat "$BUILD/guest-kernel/kernel.release")

echo "# booting 3 guests"
if ! timeout 600 "$OMC" --run-dir "$E2E_RUN_DIR" -c boot up -n 3 --timeout 300; then
	not_ok "up -n 3"
	e2e_finish
	exit 1
fi
ok "up -n 3"

for n in 1 2 3; do
	got=$(oc exec -t 30 "$n" -- uname -r)
	check "node $n runs our kernel ($got = $release)" '[ "$got" = "$release" ]'
	cmdline=$(oc exec -t 30 "$n" -- cat /proc/cmdline)
	check "node $n has its own identity (om.node=$n)" 'grep -qw "om.node=$n" <<<"$cmdline"'
	host=$(oc exec -t 30 "node$n" -- hostname)
	check "node $n is named om-node$n" '[ "$host" = "om-node$n" ]'
	version=$(oc exec -t 30 "$n" -- cat /proc/hpc/admin/version)
	check "node $n's engine answers in /proc/hpc/admin/version" 'grep -qx '\''arch x86_64'\'' <<<"$version"'
done

set +e
oc exec -t 30 1 -- sh -c 'echo out; echo err >&2; exit 7' >"$E2E_RUN_DIR/out" 2>"$E2E_RUN_DIR/err"
rc=$?
set -e
check "exec returns the command's exit status" '[ "$rc" -eq 7 ]'
check "exec keeps stdout and stderr apart" '[ "$(cat "$E2E_RUN_DIR/out")" = out ] && grep -qx err "$E2E_RUN_DIR/err"'

got=$(printf 'line1\nline2\n' | oc exec -i -t 30 2 -- wc -l)
check "exec -i forwards stdin" '[ "$(echo $got)" = 2 ]'

head -c 200000 /dev/urandom >"$E2E_RUN_DIR/blob"
oc cp "$E2E_RUN_DIR/blob" 3:/tmp/blob
want=$(md5sum <"$E2E_RUN_DIR/blob" | cut -d' ' -f1)
got=$(oc exec -t 30 3 -- md5sum /tmp/blob | cut -d' ' -f1)
check "cp copies a file intact" '[ "$want" = "$got" ]'

set +e
oc exec -t 2 1 -- sleep 30
rc=$?
oc exec -t 30 1 -- /no/such/program 2>"$E2E_RUN_DIR/err"
rc_missing=$?
oc exec 4 -- true 2>"$E2E_RUN_DIR/err4"
rc_unknown=$?
oc exec -t 30 1 -- sh -c 'kill -KILL $$'
rc_signal=$?
set -e
check "a command that runs out of time is killed (124)" '[ "$rc" -eq 124 ]'
check "a missing program is reported (255)" '[ "$rc_missing" -eq 255 ] && grep -q '\''No such file'\'' "$E2E_RUN_DIR/err"'
check "an unknown node is refused" '[ "$rc_unknown" -eq 255 ] && grep -q '\''unknown node 4'\'' "$E2E_RUN_DIR/err4"'
check "a command killed by a signal gives 128+N" '[ "$rc_signal" -eq 137 ]'

# A caller that goes away (SIGTERM) takes its command with it: the agent
# sees the host's hang-up, kills the command and serves the next one.
# (omcluster itself in the background, not a subshell running oc: its pid is the one killed)
"$OMC" --run-dir "$E2E_RUN_DIR" -c "$E2E_CLUSTER" exec -t 300 2 -- \
	sh -c 'echo started; exec sleep 271' >"$E2E_RUN_DIR/gone.out" 2>&1 &
gone_pid=$!
for ((i = 0; i < 150; i++)); do
	grep -q started "$E2E_RUN_DIR/gone.out" && break
	sleep 0.2
done
kill -TERM "$gone_pid"
wait "$gone_pid" || true
left=gone
for ((i = 0; i < 20; i++)); do
	# [s]leep: the pattern does not match the shell that runs the grep.
	left=$(oc exec -t 30 2 -- sh -c "ps | grep '[s]leep 271'; true" 2>&1) && [ -z "$left" ] && break
	sleep 0.5
done
check "a command whose caller is killed ends with it, and the agent serves the next" '[ -z "$left" ]'

# A loaded machine may keep an agent from answering status's hello in its
# 3 s: a few tries, then the answer is shown if it still is not all ready.
for _ in 1 2 3 4 5; do
	oc status >"$E2E_RUN_DIR/status" 2>&1 && break
	sleep 2
done
ready=$(grep -c ' ready ' "$E2E_RUN_DIR/status" || true)
[ "$ready" -eq 3 ] || sed 's/^/#   status: /' "$E2E_RUN_DIR/status"
check "status shows 3 ready guests" '[ "$ready" -eq 3 ]'

oc down
check "down removes the cluster's directory" '[ ! -e "$E2E_RUN_DIR/boot" ]'
check "down leaves no process behind" '[ -z "$(e2e_leftovers)" ]'
set +e
oc status >/dev/null 2>&1
rc=$?
set -e
check "status after down says no cluster" '[ "$rc" -eq 1 ]'

echo "# a guest whose kernel panics fails up, with its console"
set +e
"$OMC" --run-dir "$E2E_RUN_DIR" -c panic up -n 1 --timeout 120 --append "rdinit=/nonexistent init=/nonexistent" \
	2>"$E2E_RUN_DIR/panic.err"
rc=$?
set -e
check "up fails on a kernel panic" '[ "$rc" -ne 0 ]'
check "the failure names the panic and shows the console" 'grep -q '\''node 1: kernel panic'\'' "$E2E_RUN_DIR/panic.err" && grep -q '\''Kernel panic'\'' "$E2E_RUN_DIR/panic.err"'
check "a failed up leaves nothing behind" '[ ! -e "$E2E_RUN_DIR/panic" ] && [ -z "$(e2e_leftovers)" ]'

echo "# a guest that never answers times out"
set +e
"$OMC" --run-dir "$E2E_RUN_DIR" -c hang up -n 1 --timeout 8 --append rdinit=/bin/sh \
	2>"$E2E_RUN_DIR/hang.err"
rc=$?
set -e
check "up fails when a guest does not answer in time" '[ "$rc" -ne 0 ] && grep -q '\''node 1: no answer in time'\'' "$E2E_RUN_DIR/hang.err"'
check "a timed-out up leaves nothing behind" '[ ! -e "$E2E_RUN_DIR/hang" ] && [ -z "$(e2e_leftovers)" ]'

e2e_finish
