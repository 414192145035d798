#!/usr/bin/env bash
# omvirt against a real libvirtd: the test starts its own virtlogd and
# libvirtd, unprivileged (as nobody when run as root) with every directory
# of theirs under a private runtime directory, so a system libvirtd is never
# touched; defines two om domains, sees them in `virsh list --all` and in
# `omvirt list` with their node ids and the relay's view of each (an
# omhostd serving node 1 only); a taken name and a taken node are refused
# (status 5), a domain that is not om is left alone (status 6); undefines
# both, and stops the daemons by pid: nothing is left. No domain is started.
#
# usage: virt-libvirtd.sh OMVIRT QEMU OMHOSTD
set -uo pipefail
omvirt=$1 qemu=$2 omhostd=$3
tmp=$(mktemp -d /tmp/om-virt-lv.XXXXXX)
chmod 755 "$tmp"
. "$(dirname "$0")/tap.sh"
# expect NAME STATUS STDOUT+STDERR CMD...
expect() {
	local name=$1 want_rc=$2 want=$3 got rc
	shift 3
	got=$("$@" 2>&1)
	rc=$?
	same "$name (status $rc, want $want_rc)" "$rc $got" "$want_rc $want"
}

for t in libvirtd virtlogd virsh setpriv; do
	command -v $t >/dev/null || {
		echo "$t is not installed: scripts/setup-host.sh installs it (libvirt-daemon, libvirt-clients)" >&2
		exit 1
	}
done
[ -x "$qemu" ] || { echo "no QEMU at $qemu: build it (meson compile -C build)" >&2; exit 1; }

# The daemons' world: HOME and the XDG directories in $tmp. As root they run
# as nobody, so libvirtd is a session daemon (qemu:///session), whose files
# all follow those variables; root's would be the system's.
as=()
if [ "$(id -u)" -eq 0 ]; then
	as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
for d in home run config cache bin; do mkdir -p "$tmp/$d"; done
chmod 700 "$tmp/run"
[ ${#as[@]} -eq 0 ] || chown -R 65534:65534 "$tmp/home" "$tmp/run" "$tmp/config" "$tmp/cache"
daemon_env=(env HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run" XDG_CONFIG_HOME="$tmp/config"
	XDG_CACHE_HOME="$tmp/cache")
# libvirt probes the emulator as its own user: the build's QEMU is a link into
# root's cache, which nobody cannot enter. A hard link (or a copy) in $tmp.
emu=$tmp/bin/qemu-system-x86_64
ln "$(readlink -f "$qemu")" "$emu" 2>/dev/null || cp "$(readlink -f "$qemu")" "$emu"
: >"$tmp/bzImage"
: >"$tmp/initrd.gz"
relay=$tmp/relay
mkdir -p "$relay"
uri="qemu+unix:///session?socket=$tmp/run/libvirt/libvirt-sock"
omhostd_pid=

# Stops a daemon by its pid: SIGTERM, SIGKILL after 5 s. A zombie is gone.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	case $pid in *[!0-9]*) echo "# not a pid: $pid"; return 1 ;; esac
	kill "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		case $(ps -o stat= -p "$pid" 2>/dev/null) in "" | Z*) return 0 ;; esac
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null
}
# Their pid files (which end without a newline).
pids_of_daemons() {
	local f
	for f in "$tmp/run/libvirt/libvirtd.pid" "$tmp/run/libvirt/virtlogd.pid"; do
		[ -f "$f" ] && echo "$(cat "$f")"
	done
}
cleanup() {
	stop_pid "$omhostd_pid"
	for p in $(pids_of_daemons); do stop_pid "$p"; done
	rm -rf "$tmp"
}
trap cleanup EXIT

timeout 20 "${as[@]}" "${daemon_env[@]}" virtlogd -d || { echo "virtlogd did not start"; exit 1; }
timeout 20 "${as[@]}" "${daemon_env[@]}" libvirtd -d >"$tmp/libvirtd.out" 2>&1 ||
	{ echo "libvirtd did not start:"; cat "$tmp/libvirtd.out"; exit 1; }
for i in $(seq 100); do
	[ -S "$tmp/run/libvirt/libvirt-sock" ] && break
	sleep 0.1
done
if timeout 10 virsh -c "$uri" list --all --name >/dev/null 2>&1; then
	ok "our own libvirtd answers at $uri"
else
	not_ok "libvirtd does not answer at $uri"
	tap_end
fi

"$omhostd" --dir "$relay" --nodes 1 >"$tmp/omhostd.log" 2>&1 &
omhostd_pid=$!
for i in $(seq 100); do [ -S "$relay/control.sock" ] && break; sleep 0.1; done

files=(--kernel "$tmp/bzImage" --initrd "$tmp/initrd.gz" --emulator "$emu" --relay-dir "$relay")
expect "omvirt define node 1" 0 "defined domain omt-a: node 1, relay $relay" \
	timeout 60 "$omvirt" -c "$uri" define --node 1 --name omt-a "${files[@]}"
expect "omvirt define node 2" 0 "defined domain omt-b: node 2, relay $relay" \
	timeout 60 "$omvirt" -c "$uri" define --node 2 --name omt-b --memory 256 "${files[@]}"

same "virsh list --all shows both" "$(timeout 10 virsh -c "$uri" list --all --name | sed '/^$/d')" \
	"omt-a
omt-b"
same "omvirt list: node ids, states, the relay's view (omhostd serves node 1 only)" \
	"$(timeout 10 "$omvirt" -c "$uri" list)" \
	"$(printf '%-24s %5s  %-12s %-11s %s\n' NAME NODE STATE RELAY RELAY-DIR \
		omt-a 1 'shut off' absent "$relay" omt-b 2 'shut off' not-served "$relay")"
same "libvirt keeps the omvm mark" \
	"$(timeout 10 virsh -c "$uri" metadata omt-b urn:omvm:libvirt:domain:1 | sed '/^$/d')" \
	"<node id=\"2\" relay-dir=\"$relay\"/>"
same "libvirt keeps memfd shared memory" \
	"$(timeout 10 virsh -c "$uri" dumpxml omt-a | grep -A3 '<memoryBacking>' | sed 's/^ *//')" \
	"<memoryBacking>
<source type='memfd'/>
<access mode='shared'/>
</memoryBacking>"

expect "a taken name: status 5" 5 "omvirt: a domain named omt-a already exists" \
	timeout 60 "$omvirt" -c "$uri" define --node 3 --name omt-a "${files[@]}"
expect "a taken node on the same relay: status 5" 5 \
	"omvirt: node 2 on relay $relay is already domain omt-b" \
	timeout 60 "$omvirt" -c "$uri" define --node 2 --name omt-c "${files[@]}"

cat >"$tmp/plain.xml" <<XML
<domain type='qemu'><name>plain</name><memory unit='MiB'>64</memory>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><emulator>$emu</emulator></devices></domain>
XML
timeout 60 virsh -c "$uri" define "$tmp/plain.xml" >/dev/null
expect "undefine of a domain that is not om: status 6" 6 \
	"omvirt: domain plain is not an om domain (no omvm metadata): omvirt leaves it alone" \
	timeout 60 "$omvirt" -c "$uri" undefine plain
same "omvirt list leaves it out" "$(timeout 10 "$omvirt" -c "$uri" list | cut -d' ' -f1 | sort)" \
	"NAME
omt-a
omt-b"
timeout 60 virsh -c "$uri" undefine plain >/dev/null

expect "omvirt undefine omt-a" 0 "undefined domain omt-a" timeout 60 "$omvirt" -c "$uri" undefine omt-a
expect "omvirt undefine omt-b" 0 "undefined domain omt-b" timeout 60 "$omvirt" -c "$uri" undefine omt-b
expect "undefine again: status 6" 6 "omvirt: no domain named omt-b" \
	timeout 60 "$omvirt" -c "$uri" undefine omt-b
same "virsh list --all: none left" "$(timeout 10 virsh -c "$uri" list --all --name | sed '/^$/d')" ""
same "libvirt keeps no definition" "$(ls "$tmp/config/libvirt/qemu" 2>/dev/null | grep '\.xml$')" ""

daemons=$(pids_of_daemons)
stop_pid "$omhostd_pid"
omhostd_pid=
for p in $daemons; do stop_pid "$p"; done
left=
for p in $daemons; do
	case $(ps -o stat= -p "$p" 2>/dev/null) in "" | Z*) ;; *) left="$left $p" ;; esac
done
same "libvirtd and virtlogd stopped by pid ($(echo $daemons))" "$(echo $daemons | wc -w) $left" "2 "

tap_end
