#!/usr/bin/env bash
# dist/omhostd-service, omhostd as a service without systemd, with its paths
# moved into a temporary directory: start runs omhostd as the configured user
# (nobody, when the test runs as root) and group with the unit's umask and
# directory mode, writes its pid file and returns once omhostd serves; a
# second start leaves it be; stop ends it and removes the pid file and the
# runtime directory, as systemd does.
#
# usage: omhostd-service.sh OMHOSTD_SERVICE OMHOSTD_BINDIR
set -uo pipefail
svc=$1
export OMHOSTD_BINDIR=$2
tmp=$(mktemp -d /tmp/om-hostd-svc.XXXXXX)
chmod 755 "$tmp"
export OMHOSTD_CONF=$tmp/omhostd.conf OMHOSTD_RUNTIME_DIR=$tmp/run OMHOSTD_PIDFILE=$tmp/omhostd.pid \
	OMHOSTD_LOG=$tmp/omhostd.log
# Run by sh: meson's configured copy in the build tree is not executable.
service() { sh "$svc" "$@"; }
trap 'service stop >/dev/null 2>&1; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

if [ "$(id -u)" -eq 0 ]; then user=nobody group=nogroup; else user=$(id -un) group=$(id -gn); fi
uid=$(id -u "$user")
cat >"$OMHOSTD_CONF" <<CONF
OMHOSTD_NODES=1-2
OMHOSTD_ALLOW_UID=1=$uid
OMHOSTD_OPTIONS="--allow-uid 2=$uid"
OMHOSTD_USER=$user
OMHOSTD_GROUP=$group
CONF

out=$(service start 2>&1)
pid=$(cat "$OMHOSTD_PIDFILE" 2>/dev/null)
same "start" "$out" "omhostd started: pid $pid, nodes 1-2, sockets in $tmp/run"
same "the pid file names omhostd" "$(cat /proc/"$pid"/comm 2>/dev/null)" omhostd
same "it runs as $user:$group" "$(ps -o user=,group= -p "$pid" | tr -s ' ')" "$user $group"
same "its runtime directory: $user:$group, 0750" "$(stat -c '%U:%G %a' "$tmp/run")" "$user:$group 750"
same "node sockets: srwxrwx--- (umask 0007)" "$(stat -c '%A %G' "$tmp/run/node-1.sock" "$tmp/run/node-2.sock" | sort -u)" \
	"srwxrwx--- $group"
status=$("$OMHOSTD_BINDIR/omhostctl" -d "$tmp/run" raw 2>&1 | head -1)
case $status in "omhostd pid=$pid nodes=1-2 "*) ok "it serves: $status" ;; *) not_ok "status: $status" ;; esac
same "a second start leaves it be" "$(service start 2>&1)" "omhostd already runs: pid $pid"
service status >/dev/null 2>&1
same "status while it runs: 0" "$?" 0
same "stop" "$(service stop 2>&1)" "omhostd stopped (pid $pid)"
case $(ps -o stat= -p "$pid" 2>/dev/null) in "" | Z*) ok "omhostd ended" ;; *) not_ok "omhostd $pid still runs" ;; esac
[ ! -e "$OMHOSTD_PIDFILE" ] && [ ! -e "$tmp/run" ] && ok "pid file and runtime directory removed" ||
	not_ok "left: $(ls "$tmp")"
service status >/dev/null 2>&1
same "status when stopped: 3" "$?" 3
rm "$OMHOSTD_CONF"
same "start without settings: status 1" "$(service start 2>&1; echo "status $?")" \
	"omhostd-service: no $OMHOSTD_CONF: run omhostd-service setup first
status 1"

tap_end
