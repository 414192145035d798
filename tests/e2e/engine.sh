#!/usr/bin/env bash
# The engine end to end, 3 guests: processes moved with /proc/PID/hpc/where
# keep computing elsewhere while their deputy at home runs their system
# calls; results, files, pipes, signals, FPU/vector state and TLS are as if
# they never moved. Also the engine's KUnit suite, booted in every guest.
#
# usage: engine.sh OMCLUSTER BUILD_ROOT [MOVE_ROUNDS] [FAULT_ROUNDS]
. "$(dirname "$0")/lib.sh"
e2e_init "$1" "$2" engine
rounds=${3:-20}
fault_rounds=${4:-4}
libexec=/usr/libexec/omvm

echo "# booting 3 guests (KUnit on)"
# shellcheck disable=SC2086 # extra arguments for development runs
if ! timeout 600 "$OMC" --run-dir "$E2E_RUN_DIR" -c engine up -n 3 --timeout 300 \
	--append "kunit.enable=1 om.balance=0" ${OM_E2E_UP_ARGS:-}; then
	not_ok "up -n 3"
	e2e_finish
	exit 1
fi
ok "up -n 3"
check "every node sees the others up" 'e2e_wait_nodes 3'

# KUnit reports through the kernel log (below the console's log level).
klog=$(oc exec -t 30 1 -- dmesg)
check "KUnit: the engine's suite passed" 'grep -qE "^ *ok [0-9]+ omvm-engine[[:space:]]*$" <<<"$klog"'
check "KUnit: the engine's receive path takes malformed, duplicated and out-of-order messages" \
	'grep -qE "^ *ok [0-9]+ omvm-engine-receive[[:space:]]*$" <<<"$klog"'
check "KUnit: the driver's suite passed" 'grep -qE "^ *ok [0-9]+ virtio-om" <<<"$klog"'
check "KUnit: no test failed" '! grep -qE "not ok " <<<"$klog"'
grep -E "^ *(not )?ok [0-9]+ [a-z]" <<<"$klog" | sed 's/^/#   /' || true
for n in 1 2 3; do
	oc exec -t 30 "$n" -- uname -r | sed "s/^/#   node $n: /"
	e2e_kmemleak "$n" clear
done

# run NODE DESCRIPTION COMMAND...: a program in a guest must pass.
run() {
	local node=$1 what=$2 out rc
	shift 2
	out=$(oc exec -t 300 "$node" -- "$@" 2>&1) && rc=0 || rc=$?
	sed 's/^/#   /' <<<"$out"
	check "$what" '[ "$rc" -eq 0 ]'
}

version=$(oc exec -t 30 1 -- cat /proc/hpc/admin/version)
check "the engine answers at /proc/hpc/admin/version" 'grep -q "^engine " <<<"$version"'

run 1 "bad writes to where: a clear errno each, nothing changes" "$libexec/om-self" badwhere
run 1 "a threaded process cannot move: EBUSY, and stay names threads" "$libexec/om-self" threads
run 1 "away, getpid/getppid/gettid answer home's ids; /proc/self/exe names its program and the program is busy for writers (ETXTBSY), away and home again" "$libexec/om-self" ids 2
run 1 "THP switched off and memory-deny-write-execute (prctl) hold away and home again: PR_GET_* as set, mprotect to PROT_EXEC refused (EACCES)" "$libexec/om-self" mmflags 2
run 1 "its own nice set away rules where it runs (getpriority, stat at home); a personality set away rules uname at home (UNAME26); SIGCHLD ignored away reaps its children unwaited at home (ECHILD), then waited again; prctl away whose effect is at home: the name ps sees, a subreaper's orphans, a parent's death signal, who may read its /proc (dumpable)" "$libexec/om-self" prctl 2
run 1 "away, a call that runs only at home takes the process home and back to node 2 after it; calling again at once it stays home; debug counts both" "$libexec/om-self" homecall 2
run 1 "files a process opens away are served there (reads, writes, fstat, seeks, locks, a dup; the deputy runs none of them; a stat by path says the size written away); another opener at home sees every byte and the lock; fsync, ftruncate and close send them home; a file open at home stays home's; an unclosed file's writes reach home when its process ends away" "$libexec/om-deleg" files 2 /tmp
run 1 "a name that does not exist at home, looked up away, is answered at node 2 (stat, access, open) until home's directories or mounts change: made, renamed in, its directory made, mounted over at home, or made by the process itself, it is seen at once (a mount: within 2 s); a path through a symbolic link is not kept" "$libexec/om-deleg" names 2 /tmp
run 1 "its own write to where during another's live move of it (in its rounds) returns with it at node 2, the live move ended in that write, memory intact" "$libexec/om-self" ownwhere 2 32
run 1 "away, fork makes the child at node 2 with its deputy at home: exit codes, signals and the core flag (the core dumped at home), SIGCHLD, CPU time, copied memory, orphans as at home, the child moved on its own to node 3, a child brought home asleep sleeps on, vfork's and posix_spawn's children share the parent's memory (a failed exec's ENOENT), a program exec'd away named as at home (AT_EXECFN, comm, exe), an exec that changes credentials run at home; the parent never goes home" "$libexec/om-fork" away 2 3

echo "# whole process trees away: a shell script, Debian's xz, xargs -P 3 (moved to node 2 first)"
oc cp "$(dirname "$0")/away-tree.sh" 1:/tmp/away-tree.sh >/dev/null
oc exec -t 120 1 -- sh /tmp/away-tree.sh prep
# node_count NODE KEY: a count of /proc/hpc/admin/stats, or /proc/stat's forks.
node_count() {
	if [ "$2" = forks ]; then
		oc exec -t 30 "$1" -- awk '$1 == "processes" { print $2 }' /proc/stat
	else
		oc exec -t 30 "$1" -- awk -v k="$2" '$1 == k { print $2 }' /proc/hpc/admin/stats
	fi
}
node_busy() { oc exec -t 30 "$1" -- awk '$1 == "cpu" { print $2 + $3 + $4 }' /proc/stat; }
# tree WHAT TO: runs it; sets forks (at node 1), busy (node 1's jiffies), and
# born, execs, maps (at node 2), home_calls (at node 1): what the run added.
tree() {
	local f0 b0 n0 e0 m0 h0
	f0=$(node_count 1 forks) b0=$(node_busy 1) h0=$(node_count 1 home_calls)
	n0=$(node_count 2 born_here) e0=$(node_count 2 execs_here) m0=$(node_count 2 maps_here)
	oc exec -t 300 1 -- sh /tmp/away-tree.sh "$1" "$2" || echo "#   away-tree.sh $1 $2 failed"
	forks=$(($(node_count 1 forks) - f0)) busy=$(($(node_busy 1) - b0))
	home_calls=$(($(node_count 1 home_calls) - h0))
	born=$(($(node_count 2 born_here) - n0)) execs=$(($(node_count 2 execs_here) - e0))
	maps=$(($(node_count 2 maps_here) - m0))
}
same_output() { [ "$(oc exec -t 30 1 -- sh -c "md5sum </tmp/tree.$1.home; md5sum </tmp/tree.$1.2" | uniq | wc -l)" -eq 1 ]; }
tree noop home
start=$forks
for what in script xz xargs; do
	tree "$what" home
	made=$((forks - start)) busy_home=$busy
	tree "$what" 2
	echo "#   $what: $made processes unmoved; moved: $born born and $execs exec'd at node 2," \
		"$maps file mappings made there, $home_calls calls at home; node 1 busy" \
		"$busy_home jiffies unmoved, $busy moved"
	check "$what: the same output moved to node 2 as unmoved" "same_output $what"
	check "$what: every process it made ($made) was born at node 2, none went home for a call" \
		'[ "$born" -eq "$made" ] && [ "$home_calls" -eq 0 ]'
done
check "xargs -P 3: its 30 xz (Debian's, dynamically linked) exec'd at node 2, their libraries mapped there from home's files" \
	'[ "$execs" -ge 30 ] && [ "$maps" -ge 60 ]'

echo "# files of home used away: their pages are read from home as they fault"
p0=$(node_count 2 rfile_read_pages)
run 1 "a file of home mapped privately away reads as at home, page by page; a write stays the process's; a page changed at home before it is read reads changed" \
	"$libexec/om-self" mapped 2 /tmp/mapped.file 16
read_pages=$(($(node_count 2 rfile_read_pages) - p0))
echo "#   node 2 read $read_pages pages of the file's 4096 (and of om-self's own)"
check "node 2 read from home the pages that faulted (and their readahead), not the whole file" \
	'[ "$read_pages" -ge 10 ] && [ "$read_pages" -lt 1024 ]'
oc exec -t 30 1 -- rm -f /tmp/mapped.file
# A program exec'd at node 2 (Debian's xz), and the libraries it maps
# there: no one at node 2, root either, changes what later execs of that
# version run.
printf '%s\n' 'echo 2 >/proc/$$/hpc/where || exit 1' 'exec /usr/bin/xz -c /dev/zero >/dev/null' \
	>"$E2E_RUN_DIR/sealed.sh"
oc cp "$E2E_RUN_DIR/sealed.sh" 1:/tmp/sealed.sh >/dev/null
bg 1 sealed "sh /tmp/sealed.sh"
for ((i = 0; i < 30; i++)); do
	rpid=$(oc exec -t 30 2 -- cat /proc/hpc/remote | awk '$6 == "xz" { print $3 }' | head -n 1)
	[ -n "$rpid" ] && break
	sleep 1
done
exe_w=$(oc exec -t 30 2 -- sh -c "printf x | dd of=/proc/$rpid/exe conv=notrunc 2>&1") || true
# Just exec'd, it may not have mapped its libraries yet: looked for a while.
for ((i = 0; i < 10; i++)); do
	lib=$(oc exec -t 30 2 -- sh -c "for f in /proc/$rpid/map_files/*; do
		case \"\$(readlink \$f)\" in *liblzma*) echo \$f; break ;; esac; done")
	[ -n "$lib" ] && break
	sleep 1
done
lib_w=$(oc exec -t 30 2 -- sh -c "printf x | dd of=$lib conv=notrunc 2>&1; { : >$lib; } 2>&1") || true
echo "#   at node 2, a write to the program: $exe_w; to liblzma ($lib): $(tr '\n' ' ' <<<"$lib_w")"
check "xz, exec'd at node 2, runs there and maps liblzma there" '[ -n "$rpid" ] && [ -n "$lib" ]'
check "its program at node 2 cannot be written there (ETXTBSY)" 'grep -q "Text file busy" <<<"$exe_w"'
check "nor a library it maps (no write: EINVAL; no truncation: EPERM)" \
	'grep -q "Invalid argument" <<<"$lib_w" && grep -q "Operation not permitted" <<<"$lib_w"'
oc exec -t 30 1 -- sh -c 'kill $(pidof xz)' || true
bg_wait 1 sealed 60 >/dev/null || true

echo "# a call's buffers travel with it: one write() and one read() of a file at home, from node 2"
# field NAME LINE: the number after NAME in om-bench io's line.
field() { sed -n "s/.*$1 \([0-9.]*\).*/\1/p" <<<"$2"; }
for kib in 1024 3000; do
	io=$(oc exec -t 300 1 -- /usr/libexec/omvm/om-bench io 2 "$kib" 2>&1)
	sed 's/^/#   /' <<<"$io"
	[ "$kib" != 1024 ] || io1024=$io
	check "io $kib KiB: what read() gave away is what write() wrote; pushed $(field pushed "$io") pages with the calls, $(field "not fetched" "$io") filled without a fetch, $(field "away: fetched" "$io") fetched" \
		'grep -q "^io $kib KiB" <<<"$io" &&
		 awk -v f="$(field "away: fetched" "$io")" -v p="$(field pushed "$io")" -v u="$(field "not fetched" "$io")" \
			-v k="$kib" "BEGIN { pages = k / 4; max = pages > 512 ? 30 : 8
				exit !(f < max && p >= (pages > 512 ? 512 : pages) && u >= pages - 2) }"'
done
# Past the 2 MiB a call pushes (3000 KiB: 238 pages), the deputy reads ahead in order.
check "io 3000 KiB: a write() past what it pushed takes $(field "trips away: write" "$io") round trips (pages read ahead, not 239)" \
	'awk -v w="$(field "trips away: write" "$io")" "BEGIN { exit !(w != \"\" && w <= 30) }"'
# Of 1 MiB, what one trip carries: the call with its buffer, its result with what it read.
io=$io1024
check "io 1024 KiB: a write() away takes $(field "trips away: write" "$io") round trips, a read() $(field ", read" "$io") (at most 2 each)" \
	'awk -v w="$(field "trips away: write" "$io")" -v r="$(field ", read" "$io")" \
		"BEGIN { exit !(w != \"\" && r != \"\" && w <= 2 && r <= 2) }"'
check "io 1024 KiB: a readv() into two buffers away takes $(field "trips away: readv" "$io") round trips, a recvfrom() with its sender's address $(field ", recvfrom" "$io") (at most 2 each, the bytes and address checked)" \
	'awk -v v="$(field "trips away: readv" "$io")" -v s="$(field ", recvfrom" "$io")" \
		"BEGIN { exit !(v != \"\" && s != \"\" && v <= 2 && s <= 2) }"'
# Without (om.callbuf off at node 2, where the calls start): pages fetched,
# read ahead as the call's faults go in order (om.fetch_ahead at node 1);
# without either, every page fetched, one a round trip.
oc exec -t 30 2 -- sh -c 'echo 0 >/sys/module/om/parameters/callbuf'
io=$(oc exec -t 300 1 -- /usr/libexec/omvm/om-bench io 2 1024 2>&1)
sed 's/^/#   callbuf off: /' <<<"$io"
check "io 1024 KiB with om.callbuf off at node 2: the same bytes, its pages fetched and read ahead ($(field "away: fetched" "$io") fetches), a read() $(field ", read" "$io") round trips" \
	'grep -q "^io 1024 KiB" <<<"$io" && awk -v f="$(field "away: fetched" "$io")" -v p="$(field pushed "$io")" \
		-v r="$(field ", read" "$io")" "BEGIN { exit !(f < 80 && p == 0 && r < 40) }"'
oc exec -t 30 1 -- sh -c 'echo 0 >/sys/module/om/parameters/fetch_ahead'
io=$(oc exec -t 300 1 -- /usr/libexec/omvm/om-bench io 2 1024 2>&1)
oc exec -t 30 1 -- sh -c 'echo 14 >/sys/module/om/parameters/fetch_ahead'
oc exec -t 30 2 -- sh -c 'echo 1 >/sys/module/om/parameters/callbuf'
sed 's/^/#   callbuf and fetch_ahead off: /' <<<"$io"
check "io 1024 KiB with om.callbuf off at node 2 and om.fetch_ahead 0 at node 1: the same bytes, every page fetched ($(field "away: fetched" "$io")), none pushed, a read() $(field ", read" "$io") round trips" \
	'grep -q "^io 1024 KiB" <<<"$io" && awk -v f="$(field "away: fetched" "$io")" -v p="$(field pushed "$io")" \
		-v r="$(field ", read" "$io")" -v v="$(field "trips away: readv" "$io")" \
		"BEGIN { exit !(f >= 512 && p == 0 && r > 256 && v > 256) }"'

# Writes behind answered together: the deputy, the slower side under TCG,
# answers the calls behind that went as sent in one message while more wait.
wb=$(oc exec -t 300 1 -- /usr/libexec/omvm/om-bench behind 2 600 2>&1) || true
sed 's/^/#   /' <<<"$wb"
nb=$(sed -n 's/.*x); \([0-9]*\) behind,.*/\1/p' <<<"$wb")
na=$(sed -n 's/.* in \([0-9]*\) answers;.*/\1/p' <<<"$wb")
check "600 page writes from node 2: $nb go behind, answered in $na messages (at most half as many), the file as written" \
	'grep -q "^behind 600 page writes:.* 0 pages wrong" <<<"$wb" &&
	 awk -v b="$nb" -v a="$na" "BEGIN { exit !(b >= 590 && a >= 1 && a * 2 <= b) }"'

echo "# a file only node 1 has, opened at home, used at node 2 (traced on the host)"
omtrace=$BUILD/host/trace/omtrace
"$omtrace" -d "$E2E_RUN_DIR/engine/relay" -q --node 1,2 >"$E2E_RUN_DIR/trace.txt" 2>&1 &
tracer=$!
sleep 1
oc exec -t 30 1 -- sh -c 'printf "first second\n" >/tmp/only1; rm -f /tmp/only1.new'
oc exec -t 30 2 -- rm -f /tmp/only1 /tmp/only1.new
run 1 "a file opened at home is read and written away, a new one is created at home" \
	"$libexec/om-self" file 2 /tmp/only1
check "the file's content at node 1 is what the process wrote" \
	'[ "$(oc exec -t 30 1 -- cat /tmp/only1)" = "$(printf "first second\nwritten away")" ]'
check "the file created away exists at node 1" '[ "$(oc exec -t 30 1 -- cat /tmp/only1.new)" = "made away" ]'
check "and not at node 2" '! oc exec -t 30 2 -- test -e /tmp/only1.new'
sleep 1
kill -INT "$tracer" 2>/dev/null || true
wait "$tracer" 2>/dev/null || true
grep -E "MIG_|SYSCALL" "$E2E_RUN_DIR/trace.txt" | sed -n '1,12s/^/#   /p'
trace=$(cat "$E2E_RUN_DIR/trace.txt")
for step in MIG_BEGIN MIG_VMAS MIG_PAGES MIG_COMMIT MIG_ACK MIG_GO; do
	check "the host's trace shows the move's step $step" 'grep -q " $step " <<<"$trace"'
done
check "the host's trace names a forwarded call (write) and its result" \
	'grep -qE " SYSCALL .*nr=write" <<<"$trace" && grep -qE " SYSCALL_RET .*ret=13" <<<"$trace"'

echo "# writes behind: a file of home on a 64 KiB filesystem that fills, written from node 2"
oc exec -t 30 1 -- sh -c 'mkdir -p /tmp/small && mount -t tmpfs -o size=64k omsmall /tmp/small'
run 1 "writes behind: each write away returns its count until the process knows of a failure at home, then waits and fails (ENOSPC); the failure is told once, by the file's next fsync, close, or fdatasync after going home" \
	"$libexec/om-self" behind 2 /tmp/small
oc exec -t 30 1 -- umount /tmp/small
run 1 "writes behind from one buffer, rewritten as each returns: home writes what each write gave (a write behind sends a copy of its pages)" \
	"$libexec/om-self" rewrite 2 /tmp/rewrite
run 1 "releases of a record lock on a file written behind go behind: 0 at once, released at home before what comes next; one home refuses waits for EINVAL" \
	"$libexec/om-self" unlock 2 /tmp/unlock
run 1 "a parent away reaps children born away: wait4's status and rusage and waitid's siginfo and rusage come back with the answer (no page of the process fetched)" \
	"$libexec/om-self" reap 2
run 1 "calls whose structs travel with them (fcntl locks, pipe2, poll, select, epoll, socketpair, sendmsg, recvmsg, bind, getsockname, getsockopt, getcwd, uname, statfs) answer as at home, no page of the process fetched" \
	"$libexec/om-self" calls 2 /tmp/calls

run 1 "away, a pipe read blocks at home until written; a signal interrupts it (EINTR) or restarts it" \
	"$libexec/om-self" pipe 2

echo "# calls interrupted by a move go on as the kernel decides locally (om-continue sleep)"
# sleeper KIND: om-continue blocked in KIND at node 1, moved to node 2
# while blocked, then signalled as its phases ask (see om-continue.c).
oc exec -t 30 1 -- sh -c 'rm -f /tmp/cont.fifo; mkfifo /tmp/cont.fifo'
# stop_cont PID: stops it at home (its deputy passes that on), then continues it.
stop_cont() {
	oc exec -t 30 1 -- kill -STOP "$1"
	sleep 1
	oc exec -t 30 1 -- kill -CONT "$1"
}
sleeper() {
	local kind=$1 pid out rc t0
	bg 1 "cont-$kind" "$libexec/om-continue sleep $kind /tmp/cont.fifo"
	bg_grep 1 "cont-$kind" "^phase 1" 60 || true
	pid=$(oc exec -t 30 1 -- pidof om-continue)
	t0=$(date +%s%N)
	out=$(oc exec -t 120 1 -- om-migrate "$pid" 2 2>&1) && rc=0 || rc=$?
	echo "#   $kind: $out ($(( ($(date +%s%N) - t0) / 1000000 )) ms)"
	check "$kind: a process asleep in the call moves (om-migrate answers)" '[ "$rc" -eq 0 ]'
	# Before its call ended: its output has nothing past the phase's line yet.
	check "$kind: it moved while still asleep in the call" \
		'[ "$(oc exec -t 30 1 -- cat /tmp/cont-$kind.out)" = "phase 1" ]'
	check "$kind: it runs at node 2" '[ "$(oc exec -t 30 1 -- cat /proc/$pid/hpc/where)" = 2 ]'
	case $kind in
	nanosleep)
		bg_grep 1 "cont-$kind" "^phase 2" 60 && sleep 1
		oc exec -t 30 1 -- kill -USR1 "$pid"
		bg_grep 1 "cont-$kind" "^phase 3" 60 && sleep 1
		stop_cont "$pid" ;;
	futex)
		bg_grep 1 "cont-$kind" "^phase 2" 60 && sleep 1
		oc exec -t 30 1 -- kill -USR1 "$pid"; sleep 1; oc exec -t 30 1 -- kill -USR2 "$pid"
		bg_grep 1 "cont-$kind" "^phase 3" 60 && sleep 1
		stop_cont "$pid"
		sleep 1; oc exec -t 30 1 -- kill -USR2 "$pid" ;;
	read)
		sleep 1; oc exec -t 30 1 -- sh -c 'printf a >/tmp/cont.fifo'
		bg_grep 1 "cont-$kind" "^phase 2" 60 && sleep 1
		oc exec -t 30 1 -- kill -USR1 "$pid"; sleep 1
		oc exec -t 30 1 -- sh -c 'printf b >/tmp/cont.fifo'
		bg_grep 1 "cont-$kind" "^phase 3" 60 && sleep 1
		stop_cont "$pid"
		sleep 1; oc exec -t 30 1 -- kill -USR2 "$pid" ;;
	pause)
		sleep 1; oc exec -t 30 1 -- kill -USR1 "$pid"
		bg_grep 1 "cont-$kind" "^phase 2" 60 && sleep 1
		oc exec -t 30 1 -- kill -USR2 "$pid"
		bg_grep 1 "cont-$kind" "^phase 3" 60 && sleep 1
		stop_cont "$pid"
		sleep 1; oc exec -t 30 1 -- kill -USR2 "$pid" ;;
	esac
	bg_wait 1 "cont-$kind" 120 >"$E2E_RUN_DIR/cont-$kind.out" && rc=0 || rc=$?
	sed 's/^/#   /' "$E2E_RUN_DIR/cont-$kind.out"
	check "$kind: no restart code reaches the process; each call restarts, ends or times out as at home" \
		'[ "$rc" -eq 0 ]'
}
for kind in nanosleep futex read pause; do
	sleeper "$kind"
done

run 1 "CPU time away counts at home: times(), getrusage(), the parent's wait4()" \
	"$libexec/om-continue" cputime 2
run 1 "ITIMER_VIRTUAL and ITIMER_PROF count CPU time where the process runs, getitimer agrees" \
	"$libexec/om-continue" itimer 3
run 1 "a forwarded ppoll's signal mask rules away; the process's own mask survives, there and home" \
	"$libexec/om-continue" sigmask 2
run 1 "MAP_SHARED|MAP_ANONYMOUS memory only it maps moves; shared with a child, it stays" \
	"$libexec/om-continue" shared 2
run 1 "no_new_privs travels with the process" "$libexec/om-continue" sandbox 3
run 1 "job control: a process away stops and continues at home's word; its parent's waitpid() and /proc at home see it" \
	"$libexec/om-continue" jobctl 2
run 1 "a signalfd at home reads the signals of the process away; its other blocked signals stay pending; unblocked away (sigprocmask, sigsuspend, sigtimedwait), one held at home reaches it" \
	"$libexec/om-continue" signalfd 2
stay=$(oc exec -t 30 1 -- sh -c '/usr/libexec/omvm/om-continue sleep pause >/dev/null & p=$!; sleep 1; cat /proc/$p/hpc/stay; kill -9 $p')
echo "#   stay: ${stay:-(nothing)}"
check "a sleeping process has no stay reason" '[ -z "$stay" ]'

rate=$(step_rate) || rate=100
echo "#   om-compute: $rate steps a second at node 1"

echo "# a computation moved to node 2, and its reference, never moved, at node 3 meanwhile"
# Long enough for the checks between its move and its coming home (about
# 10 s in CI, 3 times that on the debug kernel).
csteps=$(steps_for 30)
bg 3 ref "$libexec/om-compute $csteps 100 /tmp/ref.file"

# compute NAME STEPS EVERY: om-compute at node 1 writing to a pipe and a file; prints its pid.
compute() {
	bg 1 "$1" "OM_E2E_RUN=$1 $libexec/om-compute $2 $3 /tmp/$1.file | cat"
	local i pid=""
	for ((i = 0; i < 30; i++)); do
		pid=$(oc exec -t 30 1 -- pidof om-compute 2>/dev/null) && break
		sleep 1
	done
	echo "$pid"
}

# cputime NODE PID [TID]: utime+stime in ticks, of the process (or of its
# thread TID: at home, the deputy itself).
cputime() {
	oc exec -t 30 "$1" -- cat "/proc/$2${3:+/task/$3}/stat" | awk '{ print $14 + $15 }'
}

pid=$(compute moved "$csteps" 100)
check "it started" '[ -n "$pid" ] && bg_grep 1 moved "^step 100 " 60'
out=$(oc exec -t 120 1 -- om-migrate "$pid" 2 2>&1) && rc=0 || rc=$?
echo "#   $out"
check "om-migrate moves it to node 2" '[ "$rc" -eq 0 ]'
check "where says 2" '[ "$(oc exec -t 30 1 -- cat /proc/$pid/hpc/where)" = 2 ]'
remote=$(oc exec -t 30 2 -- cat /proc/hpc/remote)
sed 's/^/#   /' <<<"$remote"
check "node 2 runs it for node 1" 'awk -v p="$pid" "\$1 == 1 && \$2 == p" <<<"$remote" | grep -q .'
rpid=$(awk -v p="$pid" '$1 == 1 && $2 == p { print $3 }' <<<"$remote")
d0=$(cputime 1 "$pid" "$pid")
r0=$(cputime 2 "$rpid")
sleep 5
d1=$(cputime 1 "$pid" "$pid")
r1=$(cputime 2 "$rpid" || echo "$r0")
h1=$(cputime 1 "$pid") || h1=0
echo "# CPU ticks in 5 s: deputy at node 1 $((d1 - d0)), process at node 2 $((r1 - r0))"
check "node 2 accounts its CPU time" '[ $((r1 - r0)) -ge 100 ]'
# The deputy only runs the process's system calls (a line to a pipe and a
# file every ~0.1 s here): near zero is under 5% of the process's time
# (20% on the debug kernel, whose every kernel path KASAN slows).
share=20
case $(oc exec -t 30 1 -- uname -r) in *-debug) share=5 ;; esac
check "the deputy at node 1 stays near zero" \
	'[ $((d1 - d0)) -le 5 ] || [ $(((d1 - d0) * share)) -le $((r1 - r0)) ]'

echo "# /proc/$pid at home describes the process at node 2, not its deputy's stand-in"
# pfile NODE PID FILE: a /proc file, NULs as spaces.
pfile() { oc exec -t 30 "$1" -- cat "/proc/$2/$3" | tr '\0' ' '; }
h_cmd=$(pfile 1 "$pid" cmdline) || true
check "cmdline at home is the process's ($h_cmd)" \
	'[ "$h_cmd" = "$libexec/om-compute $csteps 100 /tmp/moved.file " ]'
check "environ at home is the process's" 'pfile 1 "$pid" environ | grep -q "OM_E2E_RUN=moved "'
check "exe at home names its program" \
	'[ "$(oc exec -t 30 1 -- readlink /proc/$pid/exe)" = "$libexec/om-compute" ]'
h_maps=$(pfile 1 "$pid" maps) || true
r_maps=$(pfile 2 "$rpid" maps) || true
sed 's/^/#   /' <<<"$h_maps" | head -8
check "maps at home are the process's at node 2" \
	'[ -n "$h_maps" ] && [ "$h_maps" = "$r_maps" ] && ! grep -q "omvm deputy" <<<"$h_maps"'
# Memory figures move a little as it runs: equal in one of three reads.
same_there() {
	local i
	for ((i = 0; i < 3; i++)); do
		[ "$(pfile 1 "$pid" "$1" | $2)" = "$(pfile 2 "$rpid" "$1" | $2)" ] && return 0
	done
	return 1
}
echo "#   statm: home $(pfile 1 "$pid" statm), node 2 $(pfile 2 "$rpid" statm)"
check "statm at home is the process's at node 2 (what top reads)" 'same_there statm cat'
check "smaps at home are the process's at node 2: its mappings, their sizes" \
	'same_there smaps "grep -E ^[0-9a-f]+-|^Size:" && [ "$(pfile 1 "$pid" smaps | grep -c "^Size:")" -eq "$(wc -l <<<"$h_maps")" ]'
check "smaps_rollup at home is the process's at node 2" 'same_there smaps_rollup "grep -E ^Rss:|^Pss:"'
# auxv: the vector kept at exec, more than its AT_NULL pair (16 bytes), on both nodes.
check "auxv at home is the process's at node 2, as it was at exec" \
	'[ "$(oc exec -t 30 1 -- sh -c "wc -c </proc/$pid/auxv")" -gt 16 ] &&
	 [ "$(oc exec -t 30 1 -- md5sum /proc/$pid/auxv | cut -d" " -f1)" = "$(oc exec -t 30 2 -- md5sum /proc/$rpid/auxv | cut -d" " -f1)" ]'
# mem: a page of its program text, read at home and at node 2.
text=$(awk '$2 ~ /^r-x/ { split($1, a, "-"); print a[1]; exit }' <<<"$h_maps")
mempage() {
	oc exec -t 30 "$1" -- sh -c "dd if=/proc/$2/mem bs=4096 skip=\$((0x$text / 4096)) count=1 2>/dev/null | md5sum" |
		cut -d" " -f1
}
h_mem=$(mempage 1 "$pid") || true
echo "#   mem at 0x$text: home $h_mem, node 2 $(mempage 2 "$rpid")"
check "mem at home reads the process's memory at node 2" \
	'[ -n "$text" ] && [ -n "$h_mem" ] && [ "$h_mem" = "$(mempage 2 "$rpid")" ] && [ "$h_mem" != 620f0b67a91f7f74151bc5be745b7110 ]'
memw=$(oc exec -t 30 1 -- sh -c "printf x | dd of=/proc/$pid/mem bs=1 seek=\$((0x$text)) conv=notrunc 2>&1") || true
echo "#   a write to mem at home: $memw"
check "a write to mem at home is refused as not supported (EOPNOTSUPP), not lost" 'grep -q "not supported" <<<"$memw"'
h_status=$(pfile 1 "$pid" status) || true
r_status=$(pfile 2 "$rpid" status) || true
# key TEXT KEY: a status line's value.
key() { awk -v k="$2:" '$1 == k { $1 = ""; print substr($0, 2) }' <<<"$1"; }
echo "#   home: Pid $(key "$h_status" Pid), PPid $(key "$h_status" PPid), State $(key "$h_status" State), VmRSS $(key "$h_status" VmRSS)"
check "status at home: the home pid and parent, the process's name, memory and signals" \
	'[ "$(key "$h_status" Pid)" = "$pid" ] && [ "$(key "$h_status" Name)" = om-compute ] &&
	 [ "$(key "$h_status" PPid)" = "$(oc exec -t 30 1 -- cat /proc/$pid/task/$pid/stat | cut -d" " -f4)" ] &&
	 [ "$(key "$h_status" VmRSS)" = "$(key "$r_status" VmRSS)" ] &&
	 [ "$(key "$h_status" SigCgt)" = "$(key "$r_status" SigCgt)" ]'
check "stat at home counts the CPU time used at node 2 ($h1 ticks, $r1 there before)" \
	'[ "$h1" -ge "$r1" ]'
oc exec -t 30 1 -- sh -c 'echo 1 >/proc/hpc/admin/bring'
check "/proc/hpc/admin/bring brings it home" 'e2e_where_becomes 1 "$pid" home 30'
e2e_moved_as_ref 3 900

echo "# where written again and again while the move runs"
# Writes landing while it leaves queue a second move on the task that is
# becoming the deputy: its loop must take that work, not spin on it.
pid=$(compute again 100000000 1000)
out=$(oc exec -t 120 1 -- sh -c "for i in \$(seq 150); do echo 2 >/proc/$pid/hpc/where 2>/dev/null; usleep 10000; done; cat /proc/$pid/hpc/where") || out="node 1 did not answer"
echo "#   where: $out"
check "node 1 still answers, the process runs at node 2 once" \
	'[ "$out" = 2 ] && [ "$(oc exec -t 30 2 -- cat /proc/hpc/remote | awk -v p="$pid" "\$1 == 1 && \$2 == p" | wc -l)" = 1 ]'
oc exec -t 30 1 -- kill "$pid" || true
bg_wait 1 again 120 >/dev/null || true

# live NODE MODE: om.live at NODE: 0 stop-and-copy, 2 every move from NODE live.
live() { oc exec -t 30 "$1" -- sh -c "echo $2 >/sys/module/om/parameters/live"; }
# live_moves NODE: the moves NODE sent live that arrived.
live_moves() { oc exec -t 30 "$1" -- sed -n 's/^live_moves //p' /proc/hpc/admin/stats; }
echo "# moves 1->2->3->2->home, $rounds times, while it computes (2->3 and 3->2 directly);" \
	"every move live in odd rounds"
# It runs until the moves are over and it has computed at home again, and
# its reference runs unmoved at node 3 meanwhile (sharing node 3's CPU only
# while the moved one passes there): the lines both printed must agree.
bg 3 ref2 "$libexec/om-compute 100000000 1000"
pid=$(compute many 100000000 1000)
moves=0
fail=""
# The first round's moves, as the host relays them.
"$omtrace" -d "$E2E_RUN_DIR/engine/relay" -q --type migration --pid "$pid" \
	>"$E2E_RUN_DIR/hops.txt" 2>&1 &
tracer=$!
sleep 1
live_moves=0
live_homes=0
hops_before=$(($(live_moves 2) + $(live_moves 3)))
for ((r = 0; r < rounds; r++)); do
	for n in 1 2 3; do live "$n" $((r % 2 * 2)); done
	for to in 2 3 2 home; do
		if oc exec -t 120 1 -- om-migrate "$pid" "$to" >/dev/null 2>"$E2E_RUN_DIR/mig.err"; then
			moves=$((moves + 1))
		else
			fail="$to: $(cat "$E2E_RUN_DIR/mig.err")"
			break 2
		fi
		# The move from home (the round's first): its rounds (0: stop-and-copy), as its deputy tells.
		[ "$to$moves" = "2$((r * 4 + 1))" ] && [ $((r % 2)) -eq 1 ] &&
			[ "$(oc exec -t 30 1 -- sed -n 's/^last_rounds: //p' "/proc/$pid/hpc/debug")" -ge 1 ] &&
			[ "$(oc exec -t 30 2 -- cat /proc/hpc/remote | awk -v p="$pid" '$1 == 1 && $2 == p' | wc -l)" = 1 ] &&
			live_moves=$((live_moves + 1))
		# Its homecoming: the rounds its deputy took in.
		[ "$to" = home ] && [ $((r % 2)) -eq 1 ] &&
			[ "$(oc exec -t 30 1 -- sed -n 's/^last_home_rounds: //p' "/proc/$pid/hpc/debug")" -ge 1 ] &&
			live_homes=$((live_homes + 1))
	done
	if [ "$r" -eq 0 ]; then
		sleep 1
		kill "$tracer" 2>/dev/null
		wait "$tracer" 2>/dev/null || true
	fi
done
echo "# $moves moves${fail:+, then failed: $fail}"
for n in 1 2 3; do live "$n" 1; done
live_hops=$(($(live_moves 2) + $(live_moves 3) - hops_before))
check "$((rounds * 4)) moves, each one arrived" '[ "$moves" -eq $((rounds * 4)) ]'
check "$((rounds / 2)) of them live from home, in rounds while it computed ($live_moves)" \
	'[ "$live_moves" -eq $((rounds / 2)) ]'
check "$((rounds / 2)) of them live coming home, in rounds its deputy took in ($live_homes)" \
	'[ "$live_homes" -eq $((rounds / 2)) ]'
check "$((rounds / 2 * 3)) live from nodes 2 and 3 (2->3, 3->2, home), as they count them ($live_hops)" \
	'[ "$live_hops" -eq $((rounds / 2 * 3)) ]'
# pages NODES: how many MIG_PAGES the trace shows from one node to another ("2 -> 3").
pages() { grep -c " $1 pid .* MIG_PAGES " "$E2E_RUN_DIR/hops.txt" || true; }
echo "#   MIG_PAGES in the first round: 1->2 $(pages "1 -> 2"), 2->3 $(pages "2 -> 3")," \
	"3->2 $(pages "3 -> 2"), 2->1 $(pages "2 -> 1"); 1->3 $(pages "1 -> 3"), 3->1 $(pages "3 -> 1")"
check "2->3 and 3->2 go directly: their pages go between nodes 2 and 3, none to or from node 1" \
	'[ "$(pages "2 -> 3")" -gt 0 ] && [ "$(pages "3 -> 2")" -gt 0 ] &&
	 [ "$(pages "1 -> 3")" -eq 0 ] && [ "$(pages "3 -> 1")" -eq 0 ]'
check "the deputy learns each direct move's new node (HANDOVER, then its end)" \
	'[ "$(grep -c " HANDOVER .*flags=0x00000000" "$E2E_RUN_DIR/hops.txt")" -eq 2 ] &&
	 [ "$(grep -c " HANDOVER .*flags=0x00000001" "$E2E_RUN_DIR/hops.txt")" -eq 2 ]'
# lines NODE NAME: how many step lines a background run has printed.
lines() { oc exec -t 30 "$1" -- grep -c "^step" "/tmp/$2.out" || true; }
n0=$(lines 1 many)
for ((i = 0; i < 300; i++)); do
	[ "$(lines 1 many)" -ge $((n0 + 2)) ] && break
	sleep 1
done
oc exec -t 30 1 -- kill "$pid" || true
bg_wait 1 many 60 | grep "^step" >"$E2E_RUN_DIR/many.out" || true
n=$(wc -l <"$E2E_RUN_DIR/many.out")
# ref_lines N: the reference's first N lines, once it has them (it runs on
# for the fault rounds below, which compare with it too).
ref_lines() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ "$(lines 3 ref2)" -ge "$1" ] && break
		sleep 1
	done
	oc exec -t 30 3 -- grep "^step" /tmp/ref2.out | head -n "$1"
}
ref_lines "$n" >"$E2E_RUN_DIR/ref2"
echo "#   $n lines, $n0 of them before the moves ended; the last: $(tail -n 1 "$E2E_RUN_DIR/many.out")"
check "it computed on at home after the moves, every line the reference's" \
	'[ "$n" -ge $((n0 + 2)) ] && diff "$E2E_RUN_DIR/ref2" "$E2E_RUN_DIR/many.out" >/dev/null'

# om-ps must answer (its header line) and list nothing away.
ps=$(oc exec -t 30 1 -- om-ps) || ps=""
check "no process of node 1 is left away" '[ "$(sed -n 1p <<<"$ps")" = "$(printf "PID\tWHERE\tCOMM")" ] && [ "$(sed -n 2p <<<"$ps")" = "" ]'

echo "# a move is a transaction to its end: a failure injected at each step, $fault_rounds rounds" \
	"(moves from home and home live in odd rounds)"
# debugfs fail_om_move/ (guest-kernel/om/fault.c): steps is a mask of
# pages 1 (the sender fails while sending pages), commit 2 (the receiver
# refuses COMMIT), go-lost 4 (GO never leaves), running-lost 8 (the receiver
# runs it, RUNNING never leaves), fork-lost 16 (a FORK's answer never
# leaves). times 1 arms it for one failure.
fdir=$E2E_FAULT_DIR
for n in 1 2 3; do
	e2e_fault_setup "$n"
	oc exec -t 30 "$n" -- sh -c "echo 1500 >$fdir/running_timeout_ms"
done
arm() { oc exec -t 30 "$1" -- sh -c "echo $2 >$fdir/steps; echo 1 >$fdir/times"; }
disarm() { oc exec -t 30 "$1" -- sh -c "echo 0 >$fdir/times"; }
where_is() { oc exec -t 30 1 -- cat "/proc/$1/hpc/where"; }
# copies NODE PID: how many tasks at NODE run node 1's PID.
copies() { oc exec -t 30 "$1" -- cat /proc/hpc/remote | awk -v p="$2" '$1 == 1 && $2 == p' | wc -l; }
# migrate PID TO SECONDS: om-migrate's status; its message in $mig_out.
migrate() {
	mig_out=$(oc exec -t 120 1 -- om-migrate "$1" "$2" --timeout "$3" 2>&1) && return 0
}
pid=$(compute faults 100000000 1000)
check "a long computation started" '[ -n "$pid" ] && bg_grep 1 faults "^step 1000 " 60'
declare -A fault_mask=([pages]=1 [commit]=2 [go-lost]=4 [running-lost]=8)
declare -A fault_errno=([pages]="Input/output error" [commit]="Cannot allocate memory"
	[go-lost]="Connection timed out" [running-lost]="Connection timed out")
attempts=0
fault_bad=""
bad() { fault_bad="$fault_bad${fault_bad:+; }$*"; echo "#   FAIL: $*"; }
t0=$(date +%s)
for ((r = 0; r < fault_rounds; r++)); do
	# Odd rounds: the moves from home and home are live, the failures strike them.
	for n in 1 2 3; do live "$n" $((r % 2 * 2)); done
	for d in 2 3; do
		for step in pages commit go-lost running-lost; do
			# Away: the sender (node 1) or the receiver (node d) fails.
			case $step in pages | go-lost) at=1 ;; *) at=$d ;; esac
			arm "$at" "${fault_mask[$step]}"
			attempts=$((attempts + 1))
			if migrate "$pid" "$d" 30; then
				bad "1->$d $step: the move went through"
			elif ! grep -q "${fault_errno[$step]}" <<<"$mig_out"; then
				bad "1->$d $step: $mig_out"
			fi
			disarm "$at"
			[ "$(where_is "$pid")" = home ] || bad "1->$d $step: where $(where_is "$pid")"
			# A receiver that ran it (running-lost) was told to end it.
			sleep 0.5
			[ "$(copies "$d" "$pid")" = 0 ] || bad "1->$d $step: a copy runs at node $d"
			# Home: the sender (node d) or the receiver (node 1) fails.
			attempts=$((attempts + 1))
			migrate "$pid" "$d" 60 || { bad "1->$d clean: $mig_out"; continue; }
			case $step in pages | go-lost) at=$d ;; *) at=1 ;; esac
			arm "$at" "${fault_mask[$step]}"
			attempts=$((attempts + 1))
			if [ "$step" = running-lost ]; then
				# The deputy took it in: it is home; the copy left away ends.
				migrate "$pid" home 60 || bad "$d->1 $step: $mig_out"
			elif migrate "$pid" home 30; then
				bad "$d->1 $step: the move went through"
			elif ! grep -q "${fault_errno[$step]}" <<<"$mig_out"; then
				bad "$d->1 $step: $mig_out"
			fi
			disarm "$at"
			if [ "$step" != running-lost ]; then
				[ "$(where_is "$pid")" = "$d" ] || bad "$d->1 $step: where $(where_is "$pid")"
				[ "$(copies "$d" "$pid")" = 1 ] || bad "$d->1 $step: not one copy at node $d"
				attempts=$((attempts + 1))
				migrate "$pid" home 60 || bad "$d->1 clean: $mig_out"
			fi
			sleep 2
			[ "$(copies "$d" "$pid")" = 0 ] || bad "$d->1 $step: a copy is left at node $d"
			[ "$(where_is "$pid")" = home ] || bad "$d->1 $step: where $(where_is "$pid")"
		done
	done
done
for n in 1 2 3; do live "$n" 1; done
# Between two nodes away (2->3, direct): the sender (node 2) or the receiver
# (node 3) fails; the process goes on at node 2, the deputy reports why.
# Stop-and-copy, then live (om.live=2 at node 2: the pages fault strikes
# a slice of its rounds, the others its freeze).
migrate "$pid" 2 60 || bad "1->2 before the direct moves: $mig_out"
for mode in 0 2; do
	live 2 "$mode"
	for step in pages commit go-lost running-lost; do
		case $step in pages | go-lost) at=2 ;; *) at=3 ;; esac
		arm "$at" "${fault_mask[$step]}"
		attempts=$((attempts + 1))
		if migrate "$pid" 3 30; then
			bad "2->3 $step (live $mode): the move went through"
		elif ! grep -q "${fault_errno[$step]}" <<<"$mig_out"; then
			bad "2->3 $step (live $mode): $mig_out"
		fi
		disarm "$at"
		[ "$(where_is "$pid")" = 2 ] || bad "2->3 $step (live $mode): where $(where_is "$pid")"
		# A receiver that ran it (running-lost) was told to end it, by the deputy.
		sleep 0.5
		[ "$(copies 3 "$pid")" = 0 ] || bad "2->3 $step (live $mode): a copy runs at node 3"
		[ "$(copies 2 "$pid")" = 1 ] || bad "2->3 $step (live $mode): not one copy at node 2"
	done
done
# Live, the pages fault struck a slice of the rounds (stop-and-copy fails alike).
oc exec -t 30 2 -- dmesg | grep -q "omvm: pid $pid: live move to node 3 ends before its freeze (-5)" ||
	bad "2->3 pages (live 2): not in the rounds"
l2=$(live_moves 2)
attempts=$((attempts + 2))
migrate "$pid" 3 60 || bad "2->3 clean after the failures: $mig_out"
[ "$(live_moves 2)" = $((l2 + 1)) ] || bad "2->3 clean after the failures: not live"
live 2 1
migrate "$pid" home 60 || bad "3->1 after the direct moves: $mig_out"
echo "#   $attempts moves, $((4 * 2 * fault_rounds * 2 + 8)) of them with a failure, in $(($(date +%s) - t0)) s"
check "each injected failure is reported with its errno; the process runs exactly once, where expected ($attempts moves)" \
	'[ -z "$fault_bad" ] && [ "$attempts" -ge $((fault_rounds * 30)) ]'
# Home serves each version nodes 2 and 3 keep once: what a move served
# and the destination did not keep (a failed move, a version it had) is
# forgotten (rfile_serve.c).
for ((i = 0; i < 15; i++)); do
	served=$(node_count 1 rfile_served) kept=$(($(node_count 2 rfile_files) + $(node_count 3 rfile_files)))
	[ "$served" = "$kept" ] && break
	sleep 1
done
check "node 1 serves $served files, the versions nodes 2 and 3 keep ($kept), after $attempts moves" \
	'[ "$served" -eq "$kept" ]'
oc exec -t 30 1 -- kill "$pid"
bg_wait 1 faults 60 | grep "^step" >"$E2E_RUN_DIR/faults.out" || true
steps_seen=$(wc -l <"$E2E_RUN_DIR/faults.out")
ref_lines "$steps_seen" >"$E2E_RUN_DIR/ref2"
oc exec -t 30 3 -- sh -c 'kill $(pidof om-compute)' || true
bg_wait 3 ref2 60 >/dev/null || true
ref_steps=$(wc -l <"$E2E_RUN_DIR/ref2")
n=$((steps_seen < ref_steps ? steps_seen : ref_steps))
echo "#   $steps_seen lines of output, $n of them against the reference"
# Each step once, in order (a second copy would write twice), and what
# they say is the reference's as far as it goes.
check "its output has every step once, in order, as the reference computes it" \
	'[ "$n" -gt 0 ] && awk "\$2 != NR * 1000 { exit 1 }" "$E2E_RUN_DIR/faults.out" &&
	 diff <(grep "^step" "$E2E_RUN_DIR/ref2" | head -n "$n") <(head -n "$n" "$E2E_RUN_DIR/faults.out") >/dev/null'
klog=$(oc exec -t 30 1 -- dmesg)
check "the kernel log names each injected failure" \
	'grep -q "fault injected: pages" <<<"$klog" && grep -q "fault injected: go-lost" <<<"$klog" &&
	 grep -q "no answer to GO" <<<"$klog"'

echo "# a call that runs only at home, whose homecoming fails once"
# Node 1 refuses the next COMMIT it receives: the homecoming syslog asks for.
commits() { oc exec -t 30 1 -- dmesg | grep -c "fault injected: commit" || true; }
c0=$(commits)
arm 1 2
run 1 "a home-first call whose homecoming fails goes home again and runs (syslog after a refused COMMIT)" \
	"$libexec/om-self" homecall 2
disarm 1
check "the kernel log names the refused homecoming" '[ "$(commits)" -gt "$c0" ]'

echo "# a fork away whose answer never comes (fork-lost at home, node 2 waits 2 s)"
oc exec -t 30 2 -- sh -c "echo 2000 >$fdir/fork_timeout_ms"
arm 1 16
run 1 "a fork away whose answer never comes fails with EAGAIN, and the child's deputy home made ends unseen: nothing to wait for (ECHILD), no SIGCHLD; the next fork works" \
	"$libexec/om-fork" unanswered 2
disarm 1
echo "# a fork away whose answer comes after node 2 gave up (fork-late at home: 3 s late)"
stale0=$(oc exec -t 30 2 -- dmesg | grep -c "a stale answer" || true)
arm 1 32
run 1 "a fork away answered too late fails with EAGAIN all the same, the late answer taken for no other call, the child's deputy ended unseen; the next fork works" \
	"$libexec/om-fork" late 2
disarm 1
check "node 2 dropped the late answer (its kernel log says so)" \
	'[ "$(oc exec -t 30 2 -- dmesg | grep -c "a stale answer" || true)" -gt "$stale0" ]'
oc exec -t 30 2 -- sh -c "echo 60000 >$fdir/fork_timeout_ms"

echo "# a live move's freeze reads the log of the pages written, not every page table; home live too"
live 1 2
live 2 2
lv=$(oc exec -t 600 1 -- "$libexec/om-bench" move 2 16 2>&1) || lv="failed: $lv"
lw=$(oc exec -t 600 1 -- "$libexec/om-bench" move 2 16 wide 2>&1) || lw="failed: $lw"
live 1 1
live 2 1
echo "$lv" | sed 's/^/#   /'
echo "$lw" | sed 's/^/#   /'
check "a writer moved live (16 MiB): every byte right after, its freeze walked no page table" \
	'grep -q "^move 16 MiB live: .* ms (mappings walked: 0)" <<<"$lv"'
check "its writer dropping 128 pages at once in the rounds: every byte right, its freeze walked that mapping" \
	'grep -q "^move 16 MiB live: .* ms (mappings walked: 1)" <<<"$lw"'
# Its calls while it writes (where it is, read at home) ran between the rounds.
check "the writer came home live, its deputy serving its calls between the rounds it took in" \
	'grep -Eq "^home 16 MiB live: [0-9]+ pages \([1-9][0-9]* in [1-9][0-9]* rounds, [1-9][0-9]* calls served" <<<"$lv"'

echo "# a process killed in its live move's rounds"
bg 1 livekill "$libexec/om-bench write 200"
bg_grep 1 livekill "^writing" 120 || true
kpid=$(oc exec -t 30 1 -- pidof om-bench) || kpid=""
# Asked by another, 200 MiB of its own: live under the default om.live=1.
oc exec -t 30 1 -- sh -c "echo 2 >/proc/$kpid/hpc/where" || true
sleep 2
kbefore=$(oc exec -t 30 2 -- cat /proc/hpc/remote | awk -v p="$kpid" '$1 == 1 && $2 == p')
oc exec -t 30 1 -- kill -9 "$kpid" || true
for ((i = 0; i < 10; i++)); do
	kleft=$(oc exec -t 30 2 -- cat /proc/hpc/remote | awk -v p="$kpid" '$1 == 1 && $2 == p')
	[ -z "$kleft" ] && break
	sleep 1
done
bg_wait 1 livekill 30 >/dev/null || true
echo "#   node 2 was taking it in: ${kbefore:-(nothing)}; ${i} s after the kill: ${kleft:-nothing left}"
check "the copy node 2 was building ends within seconds of the kill (MIG_ABORT sent as it dies)" \
	'[ -n "$kpid" ] && [ -n "$kbefore" ] && [ -z "$kleft" ]'

# writer_at NAME MIB NODE: a writer of MIB (om-bench write) started at
# node 1 as background job NAME and moved to NODE; prints its pid.
writer_at() {
	local pid
	bg 1 "$1" "$libexec/om-bench write $2"
	bg_grep 1 "$1" "^writing" 120 || true
	pid=$(oc exec -t 30 1 -- pidof om-bench) || pid=""
	migrate "$pid" "$3" 120 >&2 || echo "#   to node $3: $mig_out" >&2
	echo "$pid"
}
# ask_home NODE PID: asks node 1's PID, at NODE, home, and waits until its
# half there has home as its target (a live homecoming in its rounds);
# prints that target. Asked by another, a writer of more than 4 MiB comes
# home live under the default om.live=1.
ask_home() {
	local lp t="" i
	lp=$(oc exec -t 30 "$1" -- cat /proc/hpc/remote | awk -v p="$2" '$1 == 1 && $2 == p { print $3 }') ||
		lp=""
	oc exec -t 30 1 -- sh -c "echo home >/proc/$2/hpc/where" || true
	for ((i = 0; i < 50; i++)); do
		t=$(oc exec -t 30 "$1" -- sed -n 's/^target: //p' "/proc/$lp/hpc/debug" 2>/dev/null) || t=""
		[ "$t" = 1 ] && break
		sleep 0.1
	done
	echo "$t"
}

echo "# a process killed at home in its live homecoming's rounds"
hpid=$(writer_at homekill 200 2)
htarget=$(ask_home 2 "$hpid")
oc exec -t 30 1 -- kill -9 "$hpid" || true
for ((i = 0; i < 10; i++)); do
	hleft="$(copies 2 "$hpid")$(oc exec -t 30 1 -- sh -c "! kill -0 $hpid 2>/dev/null || echo ' and at home'")"
	[ "$hleft" = 0 ] && break
	sleep 1
done
bg_wait 1 homekill 30 >/dev/null || true
hlog=$(oc exec -t 30 2 -- dmesg | grep "pid $hpid: live move to node 1 ends before its freeze") || hlog=""
echo "#   node 2's target as it was killed: ${htarget:-none}; ${i} s after the kill, copies at node 2: $hleft; ${hlog:-no live move ended at node 2}"
check "killed at home while its deputy took in its rounds, it ends at home and at node 2 within seconds" \
	'[ -n "$hpid" ] && [ "$htarget" = 1 ] && [ "$hleft" = 0 ] && [ -n "$hlog" ]'

echo "# node 3 dies in the rounds of a live move to it, and of a live homecoming from it"
# A 128 MiB writer at node 3, to be on its way home when node 3 dies.
cpid=$(writer_at comeback 128 3)
# om.live=2: its own write to where is live too; om-self waits for the outcome.
live 1 2
bg 1 vanish "$libexec/om-self" vanish 3 300
bg_grep 1 vanish "^moving" 60 || true
sleep 1
vstate=$(oc exec -t 30 1 -- sh -c 'grep -E "^(role|target):" /proc/$(pidof om-self)/hpc/debug' | tr '\n' ' ')
ctarget=$(ask_home 3 "$cpid")
oc stop --kill 3 >/dev/null
bg_wait 1 vanish 300 >"$E2E_RUN_DIR/vanish.out" && rc=0 || rc=$?
live 1 1
echo "#   when node 3 died: $vstate"
check "node 3 died while the move was in its rounds (at home, target 3)" \
	'grep -q "role: home target: 3" <<<"$vstate"'
sed 's/^/#   /' "$E2E_RUN_DIR/vanish.out"
check "the process goes on at home, its memory intact, the failure reported" '[ "$rc" -eq 0 ]'
# The one coming home is lost with its node: its deputy ends (SIGKILL), it does not wait on.
bg_wait 1 comeback 30 >/dev/null && crc=0 || crc=$?
cleft=$(oc exec -t 30 1 -- sh -c "! kill -0 $cpid 2>/dev/null || echo 'its deputy is still there'")
echo "#   the homecoming from node 3: target ${ctarget:-none} when node 3 died; status $crc; ${cleft:-its deputy ended}"
check "a process coming home live from node 3 when it died is lost with it: its deputy ends, killed (137)" \
	'[ -n "$cpid" ] && [ "$ctarget" = 1 ] && [ "$crc" = 137 ] && [ -z "$cleft" ]'

echo "# a move while the relay dies (SIGKILL) and comes back"
bg 1 relay "$libexec/om-self" relay 2 200
bg_grep 1 relay "^moving" 60 || true
sleep 1
oc relay --kill restart >/dev/null || echo "#   the relay did not restart"
bg_wait 1 relay 300 >"$E2E_RUN_DIR/relay.out" && rc=0 || rc=$?
sed 's/^/#   /' "$E2E_RUN_DIR/relay.out"
check "the process ends the move at node 2 or home, runs once, its memory intact (status $rc)" \
	'[ "$rc" -eq 0 ] && [ -z "$(oc exec -t 30 2 -- cat /proc/hpc/remote | awk "\$1 == 1")" ]'

echo "# clocks never jump: moved 1->2->home->3, node 3 booted minutes after node 1"
oc start 3 >/dev/null
check "node 3 is back" 'e2e_wait_nodes 3'
for n in 1 2 3; do
	echo "#   node $n up $(oc exec -t 30 $n -- cut -d" " -f1 /proc/uptime) s"
done
# Its 30 s span the four moves below (3 s apart, each a second or two).
bg 1 clocks "$libexec/om-continue clocks 30"
sleep 3
pid=$(oc exec -t 30 1 -- pidof om-continue)
longest=0
for to in 2 home 3 home; do
	t0=$(date +%s%N)
	oc exec -t 120 1 -- om-migrate "$pid" "$to" >/dev/null 2>&1 || echo "#   move to $to failed"
	t=$(( ($(date +%s%N) - t0) ))
	[ "$t" -gt "$longest" ] && longest=$t
	sleep 3
done
bg_wait 1 clocks 120 >"$E2E_RUN_DIR/clocks.out" || true
sed 's/^/#   /' "$E2E_RUN_DIR/clocks.out"
echo "#   the longest move took $longest ns, seen from the host"
for clk in monotonic boottime; do
	back=$(awk -v c="$clk:" '$1 == c { print $5 }' "$E2E_RUN_DIR/clocks.out")
	leap=$(awk -v c="$clk:" '$1 == c { print $10 }' "$E2E_RUN_DIR/clocks.out")
	check "CLOCK_${clk^^} never goes back" '[ -n "$back" ] && [ "$back" -eq 0 ]'
	check "CLOCK_${clk^^} steps forward no more than a move took" \
		'[ -n "$leap" ] && [ "$leap" -le "$longest" ]'
done

# Before nodes die below: what their kernels said of themselves.
for n in 1 2 3; do
	reports=$(e2e_kernel_reports "$n")
	sed 's/^/#   /' <<<"$reports" | head -40
	check "node $n: no kernel report so far (BUG, WARNING; KASAN, lockdep on a debug kernel)" \
		'[ -z "$reports" ]'
	# Only a debug kernel has kmemleak: elsewhere there is nothing to check.
	if e2e_kmemleak "$n" on; then
		leaks=$(e2e_kmemleak "$n" report)
		sed 's/^/#   /' <<<"$leaks" | head -40
		check "node $n: no leak kmemleak can see" '[ -z "$leaks" ]'
	fi
done

echo "# a live move between two nodes away whose destination dies in its rounds"
bg 1 hopvan "$libexec/om-bench write 200"
bg_grep 1 hopvan "^writing" 120 || true
hpid=$(oc exec -t 30 1 -- pidof om-bench) || hpid=""
# To node 2 stop-and-copy; from there, every move is live.
live 1 0
migrate "$hpid" 2 300 || echo "#   $mig_out"
live 1 1
live 2 2
oc exec -t 30 1 -- om-migrate "$hpid" 3 --no-wait >/dev/null 2>&1 || true
sleep 2
hrecv=$(oc exec -t 30 3 -- cat /proc/hpc/remote | awk -v p="$hpid" '$1 == 1 && $2 == p')
echo "#   node 3 taking it in: ${hrecv:-(nothing)}"
oc stop --kill 3 >/dev/null
for ((i = 0; i < 30; i++)); do
	herr=$(oc exec -t 30 1 -- sed -n 's/^last_error: //p' "/proc/$hpid/hpc/debug")
	[ -n "$herr" ] && [ "$herr" != 0 ] && break
	sleep 1
done
sleep 2
hat=$(where_is "$hpid")
hcopies=$(copies 2 "$hpid")
echo "#   $i s after node 3 died: where $hat, last_error $herr, copies at node 2: $hcopies"
check "node 3 was taking it in, in the rounds at node 2" '[ -n "$hpid" ] && [ -n "$hrecv" ]'
check "the process goes on at node 2, once; its deputy told why it stays (node 3 down: EHOSTDOWN)" \
	'[ "$hat" = 2 ] && [ "$hcopies" = 1 ] && [ "$herr" = -112 ] &&
	 { bg_wait 1 hopvan 1 >/dev/null; [ $? -eq 124 ]; }'
# Stop-and-copy would fail alike: node 2's log says the rounds ended it.
check "node 2's kernel log: its live move to node 3 ended in the rounds (-112)" \
	'oc exec -t 30 2 -- dmesg | grep -q "omvm: pid $hpid: live move to node 3 ends before its freeze (-112)"'
live 2 1
oc exec -t 30 1 -- kill "$hpid" || true
bg_wait 1 hopvan 30 >/dev/null || true
oc start 3 >/dev/null
check "node 3 is back" 'e2e_wait_nodes 3'

echo "# the node a process runs on dies while its deputy is blocked in a call for it"
# A writer that never writes keeps cat's read blocked, at home, in the deputy.
oc exec -t 30 1 -- sh -c 'rm -f /tmp/dead.fifo && mkfifo /tmp/dead.fifo &&
	setsid sh -c "sleep 900 >/tmp/dead.fifo" </dev/null >/dev/null 2>&1 &'
bg 1 dead "cat /tmp/dead.fifo"
sleep 2
pid=$(oc exec -t 30 1 -- pidof cat) || pid=""
migrate "$pid" 3 60 || echo "#   $mig_out"
check "cat, blocked in read, moved to node 3" '[ -n "$pid" ] && [ "$(where_is "$pid")" = 3 ]'
# And a file delegated to node 3, written there after its last fsync.
bg 1 held "$libexec/om-deleg hold 3 /tmp/held.file"
bg_grep 1 held "^holding" 120 || true
t0=$(date +%s)
oc stop --kill 3 >/dev/null
bg_wait 1 dead 60 >/dev/null && rc=0 || rc=$?
took=$(($(date +%s) - t0))
echo "#   its status at home: $rc, $took s after node 3 was killed"
check "the deputy wakes and the process ends at home as killed by SIGKILL, within seconds" \
	'[ "$rc" -eq 137 ] && [ "$took" -le 30 ]'
held=$(oc exec -t 60 1 -- sh -c 'wc -c </tmp/held.file; tr -d S </tmp/held.file | wc -c' | tr '\n' ' ')
took=$(($(date +%s) - t0))
bg_wait 1 held 30 >/dev/null && rc=0 || rc=$?
echo "#   the file delegated to node 3: $held(bytes, bytes not synced) $took s after; its writer: $rc"
check "a file delegated to the node that died opens at home at once (its lease ended), as last synced there: 5000 bytes, none of the 3000 written after" \
	'[ "$held" = "5000 0 " ] && [ "$took" -le 40 ] && [ "$rc" -eq 137 ]'
check "the kernel log at home says why" \
	'oc exec -t 30 1 -- dmesg | grep -q "omvm: pid $pid (home node 1) killed: node 3, where its process was, went down"'

echo "# the home node of a process away dies"
bg 2 orphan "$libexec/om-compute 100000000 1000"
sleep 2
pid=$(oc exec -t 30 2 -- pidof om-compute) || pid=""
oc exec -t 120 2 -- om-migrate "$pid" 1 >/dev/null 2>&1 || true
remote=$(oc exec -t 30 1 -- cat /proc/hpc/remote | awk -v p="$pid" '$1 == 2 && $2 == p')
check "om-compute of node 2 runs at node 1" '[ -n "$pid" ] && [ -n "$remote" ]'
# And a live move from node 2 to node 1 in its rounds: its sender dies.
bg 2 livesrc "$libexec/om-bench write 200"
bg_grep 2 livesrc "^writing" 120 || true
lpid=$(oc exec -t 30 2 -- pidof om-bench) || lpid=""
oc exec -t 30 2 -- sh -c "echo 2 >/sys/module/om/parameters/live; echo 1 >/proc/$lpid/hpc/where" || true
# Caught as soon as node 1 takes it in: its 200 MiB cross in 2-3 s, so a
# fixed wait of 2 s sometimes found the move already ended.
lrecv=
for ((i = 0; i < 40; i++)); do
	lrecv=$(oc exec -t 30 1 -- cat /proc/hpc/remote | awk -v p="$lpid" '$1 == 2 && $2 == p')
	[ -n "$lrecv" ] && break
	sleep 0.25
done
lstate=$(oc exec -t 30 2 -- sh -c "grep -E '^(role|target|peer):' /proc/$lpid/hpc/debug; cat /proc/$lpid/hpc/where" | tr '\n' ' ')
echo "#   live move 2->1 before node 2 dies: at node 2 $lstate; at node 1: ${lrecv:-(nothing)}"
check "a live move of node 2's to node 1 is in its rounds: at home, node 1 taking it in" \
	'[ -n "$lpid" ] && grep -q "role: home peer: 1 target: 1 home" <<<"$lstate" && [ -n "$lrecv" ]'
oc stop --kill 2 >/dev/null
for ((i = 0; i < 30; i++)); do
	remote=$(oc exec -t 30 1 -- cat /proc/hpc/remote | awk -v p="$pid" -v l="$lpid" '$1 == 2 && ($2 == p || $2 == l)')
	[ -z "$remote" ] && break
	sleep 1
done
check "the process away ends with its home, and the live move's copy at node 1, within seconds" \
	'[ -z "$remote" ]'
check "the kernel log there says why" \
	'oc exec -t 30 1 -- dmesg | grep -q "omvm: pid $pid (home node 2) killed: node 2, where its deputy was, went down"'

echo "# a node whose CPU lacks what home's offers is refused before anything stops"
# node_up AT N: node AT sees node N up, within 30 s.
node_up() {
	local i
	for ((i = 0; i < 30; i++)); do
		oc exec -t 30 "$1" -- cat /proc/hpc/nodes | grep -qE "^$2 up " && return 0
		sleep 1
	done
	return 1
}
oc start --cpu qemu64 2 >/dev/null
check "node 2 is back, on a qemu64 CPU" 'node_up 1 2'
bg 1 cpu "$libexec/om-compute 100000000 1000"
sleep 2
pid=$(oc exec -t 30 1 -- pidof om-compute) || pid=""
migrate "$pid" 2 30 && rc=0 || rc=$?
echo "#   $mig_out"
check "om-migrate to node 2 fails with ENOEXEC" '[ "$rc" -ne 0 ] && grep -q "Exec format error" <<<"$mig_out"'
dbg=$(oc exec -t 30 1 -- cat "/proc/$pid/hpc/debug")
grep "^cpu_lacks" <<<"$dbg" | sed 's/^/#   /'
check "debug names what node 2 lacks" 'grep -qE "^cpu_lacks: .*sse4_2" <<<"$dbg"'
check "the kernel log says why it stays" \
	'oc exec -t 30 1 -- dmesg | grep -q "omvm: pid $pid stays: node 2.s CPU lacks .*sse4_2"'
check "it never left, and computes on" '[ "$(where_is "$pid")" = home ] && bg_grep 1 cpu "^step" 60'
oc exec -t 30 1 -- kill "$pid"
bg_wait 1 cpu 30 >/dev/null || true

# Every process moved in this test has ended: what the engine held for
# each (its halves, their task references) is freed.
for ((i = 0; i < 15; i++)); do
	stats=$(oc exec -t 30 1 -- grep "^halves " /proc/hpc/admin/stats)
	[ "$stats" = "halves 0" ] && break
	sleep 1
done
echo "#   node 1: $stats"
check "nothing leaks: node 1's engine holds no half once its processes ended" \
	'[ "$stats" = "halves 0" ]'
e2e_finish
