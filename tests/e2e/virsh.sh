#!/usr/bin/env bash
# om guests as libvirt domains, end to end: the test starts its own virtlogd
# and libvirtd (unprivileged, in a private directory: tests/support/
# libvirtd.sh) and its own omhostd for nodes 1-2, defines two om guests with
# `omvirt define`, `virsh start`s them, and through `omvirt exec`: both
# nodes up in each, a computation moved from node 1 to node 2 and back with
# /proc/PID/hpc/where (its output the same as a run that never moved), a
# process moved to node 2 killed (SIGKILL, 137) at node 1 within seconds of
# `virsh destroy` of node 2, node 2 started again and back up; with the relay
# stopped, `virsh start` fails at once with omvirt-hook's message. Then
# `omcluster up --libvirt -n 2` under the same daemons: exec, cp, a node
# destroyed and started again on another CPU, down; and nothing is left:
# no domain, no socket, no file, every daemon stopped by pid.
#
# The hook: as root the test installs /etc/libvirt/hooks/qemu.d/omvm for its
# run (tests/support/libvirtd.sh, lv_hook_install), unless one is there
# already, and removes it (and the directories it made) at the end. Without
# root, or with a hook there, the hook's check is skipped.
#
# usage: virsh.sh OMVIRT BUILD_ROOT
. "$(dirname "$0")/lib.sh"
set +e # every step is checked and bounded; a failure must not skip the cleanup
omvirt=$1
build=$2
libexec=/usr/libexec/omvm
dom=omvsh-
qemu=$build/qemu-patches/qemu-system-x86_64
omhostd=$build/host/omhostd/omhostd
hook_prog=$build/host/virt/omvirt-hook
omc=$build/host/cluster/omcluster
started=$(date +%s)

. "$(dirname "$0")/../support/libvirtd.sh"
lv_require_tools
for f in "$qemu" "$build/guest-kernel/bzImage" "$build/guest-image/initramfs.cpio.gz" "$omhostd" \
	"$hook_prog" "$omc"; do
	[ -e "$f" ] || { echo "missing $f: build it (meson compile -C $build)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/om-virsh.XXXXXX)
chmod 755 "$tmp"
lv_init "$tmp"
uri=$lv_uri
# What QEMU, run by libvirtd as nobody, reads and runs.
bin=$tmp/bin
lv_guest_files "$build" "$bin"
mkdir -p "$tmp/logs"
# The consoles' logs are written by virtlogd, as nobody.
[ ${#lv_as[@]} -eq 0 ] || chown 65534:65534 "$tmp/logs"
relay=$tmp/relay
omhostd_pid=

# oc exec -t SEC N -- CMD...: lib.sh's helpers (bg, bg_wait, bg_grep,
# e2e_wait_nodes) run their commands through oc; here through omvirt exec
# in domain omvsh-N. Bounded even if omvirt's own time-out did not fire.
oc() {
	local args=() node
	[ "$1" = exec ] || { echo "oc $1: only exec here" >&2; return 2; }
	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
	node=${args[-1]}
	unset 'args[-1]'
	timeout 900 "$omvirt" -c "$uri" exec "${args[@]}" "$dom$node" "$@"
}
vsh() { timeout 120 virsh -c "$uri" "$@"; }

cleanup() {
	local n
	for n in 1 2; do
		timeout 30 virsh -c "$uri" destroy "$dom$n" >/dev/null 2>&1
		timeout 30 "$omvirt" -c "$uri" undefine "$dom$n" >/dev/null 2>&1
	done
	timeout 60 "$omc" --run-dir "$tmp/omc" -c lv down >/dev/null 2>&1
	timeout 30 "$omvirt" -c "$uri" undefine omc-lv-node1 >/dev/null 2>&1
	stop_pid "$omhostd_pid"
	lv_stop
	lv_hook_remove
	rm -rf "$tmp"
}
trap cleanup EXIT
# Killed (meson's time-out, Ctrl-C): the cleanup still runs, through exit.
trap 'exit 1' INT TERM HUP

# The hook, before libvirtd starts (it looks for hooks when it starts).
lv_hook_install "$omvirt" "$bin/omvirt-hook"
hook_file=$lv_hook_file
hook_made_dirs=("${lv_hook_dirs[@]}")
[ -z "$hook_file" ] ||
	check "omvirt install-hook writes $hook_file for this run" '[ -x "$hook_file" ]'

if lv_start; then
	ok "our own libvirtd answers at $uri"
else
	not_ok "libvirtd does not answer at $uri"
	e2e_finish
	exit 1
fi

# The relay as docs/libvirt.md has the service: its directory 0750 and
# group QEMU's (nobody's here), umask 0007 so its sockets are the group's
# too, and --allow-uid QEMU's user; omhostd itself stays root.
start_relay() {
	local i
	if [ ${#lv_as[@]} -gt 0 ]; then
		mkdir -p "$relay"
		chgrp 65534 "$relay"
		chmod 0750 "$relay"
		(umask 0007; exec setpriv --regid=65534 --clear-groups "$omhostd" --dir "$relay" \
			--nodes 1-2 --allow-uid 65534) >>"$tmp/omhostd.log" 2>&1 &
	else
		mkdir -p "$relay"
		"$omhostd" --dir "$relay" --nodes 1-2 >>"$tmp/omhostd.log" 2>&1 &
	fi
	omhostd_pid=$!
	for i in $(seq 100); do
		[ -S "$relay/control.sock" ] && [ -S "$relay/node-2.sock" ] && return 0
		sleep 0.1
	done
	return 1
}
check "omhostd serves nodes 1-2 in $relay" start_relay
if [ ${#lv_as[@]} -gt 0 ]; then
	check "its sockets: only its group (QEMU's) may connect" \
		'[ "$(stat -c "%A %g" "$relay/node-1.sock")" = "srwxrwx--- 65534" ] &&
		 [ "$(stat -c "%A %g" "$relay")" = "drwxr-x--- 65534" ]'
fi

for n in 1 2; do
	out=$(timeout 60 "$omvirt" -c "$uri" define --node $n --name "$dom$n" --kernel "$bin/bzImage" \
		--initrd "$bin/initramfs.cpio.gz" --emulator "$bin/qemu-system-x86_64" \
		--relay-dir "$relay" --console-log "$tmp/logs/console-$n.log" --append om.balance=0 2>&1)
	check "omvirt define node $n" '[ "$out" = "defined domain $dom$n: node $n, relay $relay" ]'
done

# console N: the end of guest N's console, as TAP comments.
console() { tail -n "${2:-30}" "$tmp/logs/console-$1.log" 2>/dev/null | sed "s/^/#   node $1: /"; }
# boot N: virsh start, then wait (bounded) until its agent answers; 1 if not.
boot() {
	local n=$1 t0 out
	t0=$(date +%s)
	out=$(vsh start "$dom$n" 2>&1)
	if [ "$out" != "Domain '$dom$n' started" ]; then
		not_ok "virsh start $dom$n"
		sed 's/^/#   /' <<<"$out"
		return 1
	fi
	ok "virsh start $dom$n"
	# These guests answer seconds after their start under TCG; 300 s is a hung guest.
	while [ $(($(date +%s) - t0)) -lt 300 ]; do
		out=$(timeout 20 "$omvirt" -c "$uri" exec -t 10 "$dom$n" -- uname -r 2>&1) && break
		out=
		[ "$(vsh domstate "$dom$n" | sed '/^$/d')" = running ] || break
		sleep 2
	done
	if [ -z "$out" ]; then
		not_ok "omvirt exec does not answer in $dom$n ($(vsh domstate "$dom$n" | sed '/^$/d'), $(($(date +%s) - t0)) s after virsh start)"
		console "$n"
		return 1
	fi
	ok "omvirt exec answers in $dom$n (uname -r: $out), $(($(date +%s) - t0)) s after virsh start"
}
# give_up: the rest needs what failed; the cleanup still runs.
give_up() {
	echo "# giving up: $*"
	e2e_finish
	exit 1
}
booted=1
for n in 1 2; do boot $n || booted=0; done
[ $booted = 1 ] || give_up "a guest did not come up"
check "virsh list shows both running" \
	'[ "$(vsh list --name | sed "/^$/d")" = "$(printf "%s\n" "${dom}1" "${dom}2")" ]'
out=$(timeout 10 "$omvirt" -c "$uri" list)
sed 's/^/#   /' <<<"$out"
check "omvirt list: both running, both up at the relay" \
	'[ "$(awk "NR > 1 { print \$1, \$2, \$3, \$4 }" <<<"$out")" = "$(printf "%s\n" "${dom}1 1 running up" "${dom}2 2 running up")" ]'

e2e_wait_nodes 2
rc=$?
check "both nodes up in /proc/hpc/nodes in each" '[ $rc -eq 0 ]'
for n in 1 2; do oc exec -t 30 $n -- cat /proc/hpc/nodes | sed -n '2,3s/^/#   node '$n': /p'; done
[ $rc -eq 0 ] || give_up "the nodes do not see each other"
agent_socks=$(find "$tmp" -type s -name org.omvm.agent)
echo "# the agents' sockets, where libvirt put them: $(echo $agent_socks)"
out=$(oc exec -t 30 1 -- sh -c 'echo out; echo err >&2; exit 3' 2>"$tmp/err")
rc=$?
check "exec: the command's stdout, stderr and status (3)" \
	'[ "$out" = out ] && [ "$(cat "$tmp/err")" = err ] && [ $rc -eq 3 ]'
out=$(oc exec -t 30 1 -- /nonexistent 2>&1)
rc=$?
check "exec: a program that is not there: 255, and the agent's reason ($out)" \
	'[ $rc -eq 255 ] && grep -q "^omvirt: domain ${dom}1: " <<<"$out"'
echo "a file from the host" >"$tmp/cp.txt"
check "omvirt cp: a file into the guest, with its mode" \
	'timeout 60 "$omvirt" -c "$uri" cp --mode 600 "$tmp/cp.txt" "${dom}2:/tmp/cp.txt" &&
	 [ "$(oc exec -t 30 2 -- stat -c "%a %s" /tmp/cp.txt)" = "600 21" ]'

# where PID: /proc/PID/hpc/where at node 1. move PID TO: writes it, waits
# (bounded) until it reads TO.
where() { oc exec -t 30 1 -- cat "/proc/$1/hpc/where"; }
move() {
	local i
	oc exec -t 60 1 -- sh -c "echo $2 >/proc/$1/hpc/where" || return 1
	for ((i = 0; i < 60; i++)); do
		[ "$(where "$1")" = "$2" ] && return 0
		sleep 1
	done
	return 1
}

echo "# a computation, never moved, for reference"
rate=$(step_rate) || rate=100
# Long enough for a move there, 3 s, and a move back.
steps=$(steps_for 25)
echo "#   om-compute: $rate steps a second; $steps steps"
ref=$(oc exec -t 600 1 -- "$libexec/om-compute" "$steps" 100 /tmp/ref.file)
check "the reference run ends with a result" 'grep -q "^result " <<<"$ref"'

echo "# the same computation, moved to node 2 and back while it runs"
bg 1 moved "$libexec/om-compute $steps 100 /tmp/moved.file | cat"
pid=
for ((i = 0; i < 30; i++)); do
	pid=$(oc exec -t 30 1 -- pidof om-compute) && break
	sleep 1
done
check "it started (pid $pid)" '[ -n "$pid" ] && bg_grep 1 moved "^step 100 " 60'
check "moved to node 2 by writing 2 to /proc/$pid/hpc/where" 'move "$pid" 2'
remote=$(oc exec -t 30 2 -- cat /proc/hpc/remote)
check "node 2 runs it for node 1" 'awk -v p="$pid" "\$1 == 1 && \$2 == p" <<<"$remote" | grep -q .'
sleep 3
check "back home by writing home" 'move "$pid" home'
bg_wait 1 moved 600 >"$tmp/moved.out"
rc=$?
check "the moved run ends well" '[ $rc -eq 0 ]'
check "its output is the reference's, line for line" 'diff <(echo "$ref") "$tmp/moved.out" >/dev/null'
check "its file is the reference's" \
	'[ "$(oc exec -t 30 1 -- md5sum /tmp/moved.file | cut -d" " -f1)" = "$(oc exec -t 30 1 -- md5sum /tmp/ref.file | cut -d" " -f1)" ]'

echo "# a process at node 2 when virsh destroy ends node 2"
bg 1 doomed "$libexec/om-compute 100000000 1000 /tmp/doomed.file"
pid=
for ((i = 0; i < 30; i++)); do
	pid=$(oc exec -t 30 1 -- pidof om-compute) && break
	sleep 1
done
check "a long computation started (pid $pid)" '[ -n "$pid" ] && bg_grep 1 doomed "^step 1000 " 60'
check "moved to node 2" 'move "$pid" 2'
t0=$(date +%s%N)
out=$(vsh destroy "${dom}2" 2>&1)
check "virsh destroy ${dom}2" '[ "$out" = "Domain '"'${dom}2'"' destroyed" ]'
rc=
for ((i = 0; i < 30; i++)); do
	rc=$(oc exec -t 30 1 -- cat /tmp/doomed.rc 2>/dev/null) && break
	sleep 0.5
done
ms=$((($(date +%s%N) - t0) / 1000000))
check "at node 1 it ends killed by SIGKILL (status ${rc:-none}), seen $ms ms after the destroy" \
	'[ "$rc" = 137 ] && [ $ms -le 20000 ]'
klog=$(oc exec -t 30 1 -- dmesg)
grep "omvm: pid $pid " <<<"$klog" | sed 's/^/#   /'
check "node 1's kernel says why" \
	'grep -qF "omvm: pid $pid (home node 1) killed: node 2, where its process was, went down" <<<"$klog"'
nodes=$(oc exec -t 30 1 -- cat /proc/hpc/nodes)
check "node 1 sees node 2 down" 'grep -qE "^2 down " <<<"$nodes"'
check "virsh: ${dom}2 is shut off" '[ "$(vsh domstate "${dom}2" | sed "/^$/d")" = "shut off" ]'

echo "# node 2 started again"
boot 2 || console 2
e2e_wait_nodes 2
rc=$?
check "it rejoins: both nodes up in each again" '[ $rc -eq 0 ]'

if [ -n "$hook_file" ]; then
	echo "# the relay stopped: a start fails at once, saying so"
	vsh destroy "${dom}2" >/dev/null 2>&1
	stop_pid "$omhostd_pid"
	omhostd_pid=
	t0=$(date +%s%N)
	out=$(vsh start "${dom}2" 2>&1)
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	sed 's/^/#   /' <<<"$out"
	check "virsh start ${dom}2 fails in $ms ms (within 10 s)" '[ $rc -ne 0 ] && [ $ms -le 10000 ]'
	check "with the hook's message" \
		'grep -qF "omvm: node 2: omhostd is not serving it: $relay/node-2.sock does not exist; start omhostd for node 2 (the omhostd service, or: omhostd --dir $relay --nodes 2; docs/libvirt.md), then start the domain again" <<<"$out"'
	check "and ${dom}2 is shut off, not stuck in start-up" \
		'[ "$(vsh domstate "${dom}2" | sed "/^$/d")" = "shut off" ]'
fi

echo "# everything away"
for n in 1 2; do vsh destroy "$dom$n" >/dev/null 2>&1; done
for n in 1 2; do
	out=$(timeout 60 "$omvirt" -c "$uri" undefine "$dom$n" 2>&1)
	check "omvirt undefine $dom$n" '[ "$out" = "undefined domain $dom$n" ]'
done
check "virsh list --all: no domain left" '[ -z "$(vsh list --all --name | sed "/^$/d")" ]'
stop_pid "$omhostd_pid"
omhostd_pid=

echo "# omcluster up --libvirt: a cluster of two domains under the same libvirtd"
crun=$tmp/omc
# Closed to nobody, as mktemp makes directories: up says so before booting.
mkdir -m 700 "$crun"
qemu_user=()
[ ${#lv_as[@]} -eq 0 ] || qemu_user=(--qemu-user nobody)
ocl() { timeout 600 "$omc" --run-dir "$crun" -c lv "$@"; }
up_args=(up --libvirt --libvirt-uri "$uri" "${qemu_user[@]}" -n 2 --accel tcg
	--kernel "$bin/bzImage" --initrd "$bin/initramfs.cpio.gz" --qemu "$bin/qemu-system-x86_64")
if [ ${#lv_as[@]} -gt 0 ]; then
	out=$(ocl "${up_args[@]}" 2>&1)
	rc=$?
	check "up refuses a run directory QEMU's user cannot reach, saying which" \
		'[ $rc -eq 1 ] && grep -qxF "omcluster: libvirt runs QEMU as uid 65534, which cannot reach the relay'"'"'s sockets under $crun: $crun is closed to it (let it search there, e.g. chmod o+x $crun, or use another --run-dir)" <<<"$out" &&
		 [ -z "$(ls -A "$crun")" ] && [ -z "$(vsh list --all --name | sed "/^$/d")" ]'
fi
chmod 711 "$crun"
# A domain of the name node 1 would have, not the cluster's: omvirt's.
timeout 60 "$omvirt" -c "$uri" define --node 1 --name omc-lv-node1 --kernel "$bin/bzImage" \
	--initrd "$bin/initramfs.cpio.gz" --emulator "$bin/qemu-system-x86_64" --relay-dir "$relay" \
	>/dev/null 2>&1
out=$(ocl "${up_args[@]}" 2>&1)
rc=$?
check "up refuses a name libvirt has for another domain (omvirt's omc-lv-node1), saying whose" \
	'[ $rc -eq 1 ] && grep -qxF "omcluster: libvirt already has a domain omc-lv-node1, of the relay in $relay: use another cluster name (-c)" <<<"$out" &&
	 [ -z "$(ls -A "$crun")" ] && [ -z "$(vsh list --name | sed "/^$/d")" ]'
timeout 60 "$omvirt" -c "$uri" undefine omc-lv-node1 >/dev/null 2>&1
t0=$(date +%s)
out=$(ocl "${up_args[@]}" 2>&1)
rc=$?
sed 's/^/#   /' <<<"$out"
check "omcluster up --libvirt -n 2, in $(($(date +%s) - t0)) s" '[ $rc -eq 0 ]'
check "virsh list: both nodes, domains of the cluster, running" \
	'[ "$(vsh list --name | sed "/^$/d")" = "$(printf "%s\n" omc-lv-node1 omc-lv-node2)" ]'
out=$(ocl status)
rc=$?
sed 's/^/#   /' <<<"$out"
check "status: the libvirt it uses, both domains ready and up at the relay" \
	'[ $rc -eq 0 ] && grep -qxF "libvirt: $uri, QEMU as uid $( [ ${#lv_as[@]} -gt 0 ] && echo 65534 || id -u)" <<<"$out" &&
	 [ "$(awk "/^[12] / { print \$1, \$2, \$3, \$4 }" <<<"$out")" = "$(printf "%s\n" "1 omc-lv-node1 ready up" "2 omc-lv-node2 ready up")" ]'
if [ ${#lv_as[@]} -gt 0 ]; then
	check "its relay lets only QEMU's group in: a setgid directory, sockets of the group" \
		'[ "$(stat -c "%A %g" "$crun/lv/relay")" = "drwxr-s--- 65534" ] &&
		 [ "$(stat -c "%A %g" "$crun/lv/relay/node-1.sock")" = "srwxrwx--- 65534" ]'
fi
ocx() { ocl exec -t 30 "$@"; }
check "exec: node 2 sees node 1 up" 'ocx 2 -- cat /proc/hpc/nodes | grep -qE "^1 up "'
check "cp: a file into node 2" \
	'ocl cp --mode 600 "$tmp/cp.txt" 2:/tmp/cp.txt && [ "$(ocx 2 -- stat -c "%a %s" /tmp/cp.txt)" = "600 21" ]'
out=$(ocl stop --kill 2 2>&1)
check "stop --kill 2: its domain destroyed ($out)" \
	'[ "$out" = "node 2 stopped (domain omc-lv-node2, destroyed)" ] &&
	 [ "$(vsh list --all --name | sed "/^$/d")" = omc-lv-node1 ]'
out=$(ocx 2 -- true 2>&1)
rc=$?
check "exec in the stopped node: 255, saying so" \
	'[ $rc -eq 255 ] && [ "$out" = "omcluster: node 2 is not running (its domain omc-lv-node2 is not running): see \`omcluster console 2\`" ]'
out=$(ocl start --cpu qemu64 2 2>&1)
rc=$?
sed 's/^/#   /' <<<"$out"
check "start --cpu qemu64 2: up again, on a CPU without SSE4.2" \
	'[ $rc -eq 0 ] && ! ocx 2 -- grep -qw sse4_2 /proc/cpuinfo && ocx 1 -- grep -qw sse4_2 /proc/cpuinfo'
# node 1 sees node 2 up, within 30 s
sees_node2() {
	local i
	for ((i = 0; i < 30; i++)); do
		ocx 1 -- cat /proc/hpc/nodes | grep -qE "^2 up " && return 0
		sleep 1
	done
	return 1
}
check "node 1 sees node 2 up again" sees_node2
out=$(ocl down 2>&1)
check "down ($out)" '[ "$out" = "cluster '"'lv'"' is down: 2 guests and the relay stopped" ]'
check "nothing of it left: no domain, no file, no process" \
	'[ -z "$(vsh list --all --name | sed "/^$/d")" ] && [ -z "$(ls -A "$crun")" ] &&
	 [ -z "$(pgrep -f -- "$crun/")" ]'
lv_stop
check "libvirtd and virtlogd stopped by pid ($(echo $lv_stopped))" \
	'[ "$(echo $lv_stopped | wc -w)" = 2 ] && [ -z "$lv_left" ]'
check "no socket left in the test's directory" '[ -z "$(find "$tmp" -type s)" ]'
check "no process left that names it" '[ -z "$(pgrep -f -- "$tmp/")" ]'
check "no domain definition left" '[ -z "$(find "$tmp/config" -name "*.xml" -path "*qemu*" 2>/dev/null)" ]'
if [ -n "$hook_file" ]; then
	lv_hook_remove
	check "the hook removed, $lv_hook_dir as it was" \
		'[ ! -e "$hook_file" ] && (for d in "${hook_made_dirs[@]}"; do [ ! -e "$d" ] || exit 1; done)'
fi
rm -rf "$tmp"
check "the test's directory removed" '[ ! -e "$tmp" ]'
echo "# $(($(date +%s) - started)) s"
e2e_finish
