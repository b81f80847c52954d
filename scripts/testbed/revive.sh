# shellcheck shell=bash
# Sourced by scripts/testbed.sh: `revive 9|11`, for a shared daemon that stopped answering in the
# middle of a test run (test/support/daemon-watch.ts asks before each test file).
#
# One stalled daemon used to fail every test after it: each connect waited its 30 s deadline, and a
# run took 85 minutes instead of 30. Reviving it keeps the damage to the tests that ran while it
# hung, which fail on their own. What it was doing is printed first (its threads' kernel wait
# channels, its forked children, the POSIX locks on the test guest's files), so the report says why;
# a daemon that died is started again too, after the kernel's last faults and its log's last lines.
# Domains (QEMU), networks (dnsmasq) and virtlogd keep running; the new daemon picks them up.
#
# Exit status: 0 revived, 3 it answered after all (nothing done; another test worker may have
# revived it first), 1 the test bed did not start this daemon or it did not come back.

REVIVE_WAIT=30 # seconds the daemon gets to answer here before it counts as stalled

revive_answers() { # 9|11
  if [[ $1 == 9 ]]; then daemon_answers "$REVIVE_WAIT"; else l11_answers "$REVIVE_WAIT"; fi
}

# One line per fact, each starting with two spaces: the caller keeps them with the event.
revive_describe() { # pid
  local pid="$1" child inode holder file task
  echo "  threads by kernel wait channel: $(
    for task in /proc/"$pid"/task/*; do { cat "$task/wchan" 2>/dev/null; echo; }; done \
      | sort | uniq -c | sort -rn | awk '{ printf "%s%s × %s", sep, $1, $2; sep = ", " }'
  )"
  for child in $(pgrep -P "$pid"); do
    echo "  child $child ($(cat "/proc/$child/comm" 2>/dev/null)): state" \
      "$(awk '{ print $3 }' "/proc/$child/stat" 2>/dev/null), waiting in" \
      "$(cat "/proc/$child/wchan" 2>/dev/null), running $(ps -o etime= -p "$child" | tr -d ' ')"
  done
  # /proc/locks: "1: POSIX ADVISORY WRITE <pid> <major>:<minor>:<inode> <start> <end>"
  for file in "$GUEST_CACHE"/* "$L11_GUEST"/*; do
    [[ -f $file ]] || continue
    inode="$(stat -c %i "$file")" || continue
    while read -r holder; do
      echo "  $file is locked by pid $holder ($(cat "/proc/$holder/comm" 2>/dev/null)," \
        "parent $(awk '{ print $4 }' "/proc/$holder/stat" 2>/dev/null))"
    done < <(awk -v inode="$inode" '$2 == "POSIX" && split($6, id, ":") == 3 && id[3] == inode { print $5 }' /proc/locks)
  done
}

# The test bed's libvirtd of `which`, if one runs: its pid file alone may name a reused pid (the
# libvirt 11 root's /run survives a reboot).
revive_pid() { # 9|11
  if [[ $1 == 9 ]]; then
    ours libvirtd && cat "$STATE/libvirtd.pid"
  else
    l11_pid "$L11_PIDFILE"
  fi
}

cmd_revive() { # 9|11
  local which="${1:-}" pidfile log pid
  case "$which" in
    9) pidfile="$STATE/libvirtd.pid" log="$DAEMON_LOG" ;;
    11) pidfile="$L11_ROOT$L11_PIDFILE" log="$L11_ROOT$L11_LOG" ;;
    *) die "usage: $0 revive 9|11" ;;
  esac
  require_root revive
  lock_state
  if revive_answers "$which"; then
    say "libvirt $which answers; nothing to revive"
    exit 3
  fi
  # libvirtd removes its pid file when it exits; one left behind names a daemon that died.
  [[ -e $pidfile ]] || die "libvirt $which was not started by the test bed; run: $0 up"
  if pid="$(revive_pid "$which")"; then
    echo "libvirt $which (libvirtd pid $pid) did not answer within ${REVIVE_WAIT} s; what it was doing:"
    revive_describe "$pid"
    # Stopped first, so that it forks no child between the listing and the kill. Its children are
    # its own forks (relabelling inside a guest's namespace, running helpers); QEMU and dnsmasq
    # daemonize and are not among them.
    kill -STOP "$pid" 2>/dev/null || true
    kill -9 $(pgrep -P "$pid") "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do running "$pid" || break; sleep 0.1; done
  else
    # The kernel names a crashing thread (rpc-libvirtd, …) by its own id, not the daemon's pid.
    echo "libvirt $which (libvirtd pid $(cat "$pidfile")) had died; the kernel's last faults and its log's last lines:"
    { dmesg -T | grep -E "segfault|general protection|traps:" | tail -n 2 | sed 's/^/  /'; } 2>/dev/null || true
    { tail -n 3 "$log" | sed 's/^/  /'; } 2>/dev/null || true
  fi
  rm -f "$pidfile"
  if [[ $which == 9 ]]; then
    launch_libvirtd
    echo "libvirt 9: started again (libvirtd pid $(cat "$pidfile"))"
  else
    l11_start
    echo "libvirt 11: started again (libvirtd pid $(l11_pid "$L11_PIDFILE"))"
  fi
}
