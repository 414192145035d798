# A libvirtd and virtlogd of a test's own (sourced by tests/unit/virt-libvirtd.sh
# and tests/e2e/virsh.sh): unprivileged (as nobody when run as root), with
# HOME and the XDG directories in the test's directory, so they are a
# session daemon (qemu:///session) whose files all live there and a system
# libvirtd is never touched; stopped by their pids.
#
# lv_init DIR    the daemons' world under DIR; sets lv_as (the prefix that
#                runs a command as their user), lv_uri (where libvirtd answers)
# lv_start       starts both, waits (bounded) until libvirtd answers; 1 if not
# lv_pids        their pids, from their pid files
# stop_pid PID   SIGTERM, SIGKILL after 5 s; a zombie counts as gone
# lv_stop        stops both by pid; lv_left then names any still running
# lv_require_tools, lv_guest_files, lv_hook_install, lv_hook_remove: below

# lv_require_tools: exits (1) naming a missing libvirt program, and what
# installs it.
lv_require_tools() {
	local t
	for t in libvirtd virtlogd virsh setpriv; do
		command -v $t >/dev/null || {
			echo "$t is not installed: scripts/setup-host.sh installs it (libvirt-daemon, libvirt-clients)" >&2
			exit 1
		}
	done
}

lv_init() {
	local d
	lv_dir=$1
	lv_as=()
	if [ "$(id -u)" -eq 0 ]; then
		lv_as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	fi
	for d in home run config cache; do mkdir -p "$lv_dir/$d"; done
	chmod 700 "$lv_dir/run"
	[ ${#lv_as[@]} -eq 0 ] ||
		chown -R 65534:65534 "$lv_dir/home" "$lv_dir/run" "$lv_dir/config" "$lv_dir/cache"
	lv_env=(env HOME="$lv_dir/home" XDG_RUNTIME_DIR="$lv_dir/run"
		XDG_CONFIG_HOME="$lv_dir/config" XDG_CACHE_HOME="$lv_dir/cache")
	lv_uri="qemu+unix:///session?socket=$lv_dir/run/libvirt/libvirt-sock"
}

lv_start() {
	local i
	timeout 20 "${lv_as[@]}" "${lv_env[@]}" virtlogd -d || { echo "# virtlogd did not start"; return 1; }
	timeout 20 "${lv_as[@]}" "${lv_env[@]}" libvirtd -d >"$lv_dir/libvirtd.out" 2>&1 || {
		echo "# libvirtd did not start:"
		sed 's/^/#   /' "$lv_dir/libvirtd.out"
		return 1
	}
	for i in $(seq 100); do
		[ -S "$lv_dir/run/libvirt/libvirt-sock" ] && break
		sleep 0.1
	done
	timeout 10 virsh -c "$lv_uri" list --all --name >/dev/null 2>&1
}

# The pid files end without a newline.
lv_pids() {
	local f
	for f in "$lv_dir/run/libvirt/libvirtd.pid" "$lv_dir/run/libvirt/virtlogd.pid"; do
		[ -f "$f" ] && echo "$(cat "$f")"
	done
}

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

lv_stop() {
	local pids p
	pids=$(lv_pids)
	for p in $pids; do stop_pid "$p"; done
	lv_left=
	for p in $pids; do
		case $(ps -o stat= -p "$p" 2>/dev/null) in "" | Z*) ;; *) lv_left="$lv_left $p" ;; esac
	done
	lv_stopped=$pids
}

# lv_guest_files BUILD DIR: what QEMU, run by the daemons' user, boots from,
# in DIR (made, readable by all): the build's QEMU (a link into root's
# cache, which nobody cannot enter: hard-linked or copied), kernel,
# initramfs and omvirt-hook. Copies, not links: a rebuild during the run
# must not change what boots.
lv_guest_files() {
	local build=$1 dir=$2 qemu
	qemu=$(readlink -f "$build/qemu-patches/qemu-system-x86_64")
	mkdir -p "$dir"
	chmod 755 "$dir"
	ln "$qemu" "$dir/" 2>/dev/null || cp "$qemu" "$dir/"
	cp "$build/guest-kernel/bzImage" "$build/guest-image/initramfs.cpio.gz" \
		"$build/host/virt/omvirt-hook" "$dir/"
}

# lv_hook_install OMVIRT HOOK: libvirtd reads hooks from /etc/libvirt/hooks,
# session daemons too (LIBVIRT_HOOK_DIR is fixed at build time;
# XDG_CONFIG_HOME plays no part), so as root omvirt's hook is installed
# there for the test's run, before libvirtd starts (it looks for hooks
# then), unless one is there already. Sets lv_hook_file (empty: not
# installed, and why on stdout as a TAP comment) and lv_hook_dirs (the
# directories it made); lv_hook_remove undoes it.
lv_hook_dir=/etc/libvirt/hooks
lv_hook_file=
lv_hook_dirs=()
lv_hook_install() {
	local d out
	if [ "$(id -u)" -ne 0 ] || [ -e "$lv_hook_dir/qemu.d/omvm" ]; then
		echo "# not root, or $lv_hook_dir/qemu.d/omvm is someone else's: the hook is not installed"
		return 0
	fi
	for d in "$lv_hook_dir" "$lv_hook_dir/qemu.d"; do
		[ -d "$d" ] || lv_hook_dirs+=("$d")
	done
	lv_hook_file=$lv_hook_dir/qemu.d/omvm
	out=$("$1" install-hook --hooks-dir "$lv_hook_dir" --hook "$2" 2>&1)
	echo "#   $out"
}
lv_hook_remove() {
	local i
	[ -z "$lv_hook_file" ] || rm -f "$lv_hook_file"
	for ((i = ${#lv_hook_dirs[@]} - 1; i >= 0; i--)); do rmdir "${lv_hook_dirs[i]}" 2>/dev/null; done
	lv_hook_file=
	lv_hook_dirs=()
}
