#!/usr/bin/env bash
# Builds omhostd's libFuzzer targets with clang (ASan + UBSan) and runs each
# for a bounded time from the seed corpus (make-seeds.py). A crash, leak or
# sanitizer report fails; the input that did it is kept in OUT_DIR.
#
# usage: run-fuzzers.sh SOURCE_ROOT OUT_DIR SECONDS_PER_TARGET
set -euo pipefail
top=$1 out=$2 seconds=$3
mkdir -p "$out"
# Missing tools fail the run: a fuzz test that cannot run must not pass.
if ! command -v clang >/dev/null; then
	echo "not ok - fuzz: clang not found; the fuzz tests need clang and its libFuzzer runtime" \
		"(Debian: clang libclang-rt-14-dev; scripts/setup-host.sh installs both)"
	exit 1
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' \
	>"$out/probe.c"
if ! clang -fsanitize=fuzzer,address,undefined "$out/probe.c" -o "$out/probe" >"$out/probe.log" 2>&1; then
	tail -n 5 "$out/probe.log"
	echo "not ok - fuzz: clang cannot link a libFuzzer target: its runtime is missing" \
		"(Debian: libclang-rt-14-dev; scripts/setup-host.sh installs it)"
	exit 1
fi
lvu=$("$top/scripts/qemu-source.sh")/subprojects/libvhost-user
cflags=(-g -O1 -D_GNU_SOURCE -DOM_VERSION='"fuzz"' -fsanitize=fuzzer-no-link,address,undefined
	-fno-sanitize-recover=undefined -I"$top/host/omhostd" -I"$top/tests/support"
	-I"$top/virtio-om/include/uapi" -I"$top/virtio-om/lib" -I"$lvu" -I"$top/host/trace" -I"$top/guest-tools/common")
objs=()
# omtrace's decoder names system calls from a table generated at build time.
python3 "$top/host/trace/gen-syscall-names.py" "$out/syscall-names.c" clang
for src in "$lvu/libvhost-user.c" "$top"/host/omhostd/{accept,args,control,log,loop,msg,node,queue,relay,trace,trace-ring,link,link-frame,link-session,link-status,link-tls}.c \
	"$top/virtio-om/lib/om_hdr.c" "$top/guest-tools/common/parse-u32.c" "$top/tests/support/relay-harness.c" \
	"$top"/host/trace/{decode,link-decode,pcapng,print,record,ring-reader}.c "$out/syscall-names.c"; do
	obj=$out/$(basename "${src%.c}").o
	extra=()
	# libvhost-user reads a guest's indirect table where the guest put it,
	# unaligned if so: allowed on x86, not a finding (see host/omhostd/meson.build).
	[ "$src" = "$lvu/libvhost-user.c" ] && extra=(-fno-sanitize=alignment)
	clang "${cflags[@]}" "${extra[@]}" -std=gnu11 -w -c "$src" -o "$obj"
	objs+=("$obj")
done
python3 "$top/tests/fuzz/make-seeds.py" "$out/seeds"
status=0
for target in rings vhost-user trace link; do
	clang "${cflags[@]}" -fsanitize=fuzzer "$top/tests/fuzz/fuzz-$target.c" "${objs[@]}" \
		-luring -lssl -lcrypto -lpthread -o "$out/fuzz-$target"
	mkdir -p "$out/corpus-$target"
	echo "== fuzz-$target: ${seconds}s from $(ls "$out/seeds/$target" | wc -l) seeds"
	# omhostd logs every eviction: keep that out of the test's output.
	if "$out/fuzz-$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/crash-$target-" "$out/corpus-$target" "$out/seeds/$target" \
		>"$out/fuzz-$target.log" 2>&1; then
		grep -E '^(#[0-9]+ +DONE|Done)' "$out/fuzz-$target.log" | tail -n 1
		echo "ok - fuzz-$target"
	else
		grep -vE '^omhostd\[' "$out/fuzz-$target.log" | tail -n 40
		echo "not ok - fuzz-$target (log: $out/fuzz-$target.log)"
		status=1
	fi
done
exit $status
