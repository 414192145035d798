# Shared helpers for the stack build scripts (sourced, not run).
# Build trees live under $OM_CACHE, outside the repository, one per hash of
# the inputs that need a fresh tree; files that only need an incremental
# rebuild are synced into the tree instead of keying it.

OM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OM_CACHE=${OM_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/omvm}
OM_JOBS=${OM_JOBS:-$(nproc)}

om_log() {
	printf '[%s] %s\n' "${OM_LOG_TAG:-build}" "$*" >&2
}

om_die() {
	om_log "error: $*"
	exit 1
}

# om_hash FILE_OR_STRING...: a short sha256 over the given inputs. Arguments
# that name files contribute their path and content; others their text.
om_hash() {
	local a
	for a in "$@"; do
		if [ -f "$a" ]; then
			printf 'file %s\n' "${a#"$OM_TOP"/}"
			cat "$a"
		else
			printf 'text %s\n' "$a"
		fi
	done | sha256sum | cut -c1-16
}

# om_series_files DIR: the patches named by DIR/series, in order, as paths.
om_series_files() {
	local dir=$1 line
	[ -f "$dir/series" ] || return 0
	while IFS= read -r line; do
		line=${line%%#*}
		line=$(echo "$line" | tr -d '[:space:]')
		[ -n "$line" ] || continue
		[ -f "$dir/$line" ] || om_die "$dir/series names $line, which does not exist"
		echo "$dir/$line"
	done <"$dir/series"
}

# om_apply_series DIR TREE: apply DIR's patch series to TREE, failing loudly.
om_apply_series() {
	local dir=$1 tree=$2 p
	for p in $(om_series_files "$dir"); do
		om_log "applying $(basename "$p")"
		patch -d "$tree" -p1 --batch --forward --quiet <"$p" ||
			om_die "patch $p does not apply to $tree"
	done
}

# om_sync SRC DST: make DST's content equal SRC's, touching only files whose
# content differs so that make and ninja rebuild exactly what changed.
om_sync() {
	mkdir -p "$2"
	rsync -rc --delete "$1"/ "$2"/
}

# om_install_if_changed SRC DST: copy only when the content differs, so a
# downstream build step that depends on DST is not re-run for nothing.
om_install_if_changed() {
	if ! cmp -s "$1" "$2"; then
		mkdir -p "$(dirname "$2")"
		cp "$1" "$2.tmp.$$" && mv -f "$2.tmp.$$" "$2"
	fi
}

# om_open_tree KIND KEY: sets base to KIND's tree folder for KEY, creates it,
# and holds its lock (fd 9) until the script ends: one build per tree at once.
om_open_tree() {
	base=$OM_CACHE/$1/$2
	mkdir -p "$base"
	exec 9>"$base/lock"
	flock 9
	touch "$base" # most recently used, for om_prune
}

# The QEMU source package the build uses (QEMU and omhostd's libvhost-user),
# pinned: its version and its .dsc's SHA-256 (which pins every file the .dsc
# names, checked by dpkg-source). The version with its epoch, as apt knows it
# (without, apt finds none: only a cache made before hid that). When Debian
# moves on, update both here.
OM_QEMU_VERSION=1:7.2+dfsg-7+deb12u18
OM_QEMU_DSC_SHA256=6b6bd27b947ec89e40a1d6b26d9c9f3c698ca691da13163e0483f6061bbb20b3

# om_qemu_dsc_name: the pinned QEMU source package's .dsc.
om_qemu_dsc_name() {
	echo "qemu_${OM_QEMU_VERSION#*:}.dsc"
}

# om_qemu_fetch DSC_NAME: download the pinned source package into
# $OM_CACHE/src/qemu (once) and check its .dsc against the pinned hash.
om_qemu_fetch() {
	local dir=$OM_CACHE/src/qemu sum
	mkdir -p "$dir"
	if [ ! -f "$dir/$1" ]; then
		(cd "$dir" && apt-get source --download-only "qemu=$OM_QEMU_VERSION" >/dev/null 2>&1) ||
			om_die "apt-get source qemu=$OM_QEMU_VERSION failed: is it still served? (scripts/lib.sh pins it)"
	fi
	sum=$(sha256sum "$dir/$1" | cut -d' ' -f1)
	[ "$sum" = "$OM_QEMU_DSC_SHA256" ] ||
		om_die "$1 has SHA-256 $sum, not the pinned $OM_QEMU_DSC_SHA256 (scripts/lib.sh)"
}

# om_prune KIND KEEP: keep the KEEP most recently used trees of KIND.
om_prune() {
	local kind=$1 keep=$2 d
	[ -d "$OM_CACHE/$kind" ] || return 0
	ls -1dt "$OM_CACHE/$kind"/*/ 2>/dev/null | tail -n +"$((keep + 1))" |
		while read -r d; do
			om_log "pruning old $kind tree $d"
			rm -rf "$d"
		done
}

# om_progress LABEL LOG: read a build's output on stdin, keep it in LOG, and
# print a progress line every 30 s (a live counter when stderr is a tty).
om_progress() {
	local label=$1 log=$2
	awk -v label="$label" -v tty="$([ -t 2 ] && echo 1 || echo 0)" '
		BEGIN { last = systime() }
		{ print > "'"$log"'"; n++
		  now = systime()
		  if (tty == 1 && n % 20 == 0) { printf "\r[%s] %d steps", label, n > "/dev/stderr" }
		  else if (tty == 0 && now - last >= 30) { printf "[%s] %d steps\n", label, n > "/dev/stderr"; last = now } }
		END { if (tty == 1) printf "\r[%s] %d steps\n", label, n > "/dev/stderr" }'
}
