# shellcheck shell=bash
# Sourced by scripts/testbed.sh: a second daemon, libvirt 11 from Debian 13 (trixie), beside the
# host's libvirt 9.0, so that the integration tests run against both.
#
# The root:   $L11_ROOT (default /var/cache/virtwire/trixie, outside the repository), made by
#             debootstrap plus the packages below, built once into a temp dir next to it and moved
#             into place; $L11_ROOT/.virtwire-recipe holds the hash of the recipe (suite, packages,
#             the build function), and a changed recipe rebuilds it. An interrupted build leaves
#             only a .trixie.build.* dir, removed by the next build.
# The daemon: the root's virtlogd and libvirtd, in the network namespace $L11_NETNS (its bridges,
#             dnsmasq and iptables chains never meet the 9.0 daemon's) and a private mount namespace,
#             chrooted into the root, with /proc, /sys, /dev and the host paths tests hand to the
#             daemon (/tmp, /var/cache/virtwire, the guest cache) bound at the same paths. Its unix socket $L11_SOCK is a plain file of the root, so the host and every
#             network namespace reach it: $L11_URI. No TCP/TLS listener, no ssh: tests
#             of those transports run against the 9.0 daemon only (ONLY_ON_9 in jest.config.js).
#             The daemon's own files (/var/lib/libvirt, /run) lie under the root on the host
#             (VIRTWIRE_DAEMON_ROOT_11).

L11_ROOT="${VIRTWIRE_LIBVIRT11_ROOT:-/var/cache/virtwire/trixie}"
L11_NETNS="${VIRTWIRE_NETNS_11:-virtwire11}"
L11_SUITE=trixie
# --no-install-recommends: the daemon's drivers are recommends of libvirt-daemon; name the ones
# tests use (a 630 MB root in about a minute instead of 1.8 GB with every recommend).
L11_PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-driver-network
  libvirt-daemon-driver-storage libvirt-daemon-driver-secret libvirt-daemon-driver-nodedev
  libvirt-daemon-driver-nwfilter libvirt-daemon-driver-interface libvirt-clients qemu-system-x86
  qemu-utils dnsmasq-base iptables ovmf swtpm swtpm-tools virtiofsd
  libvirt-daemon-driver-storage-disk libvirt-daemon-driver-storage-logical
  libvirt-daemon-driver-storage-iscsi parted lvm2)
# swtpm, swtpm-tools: emulated TPMs; virtiofsd: virtiofs shares (trixie packages it on its own).
# …-storage-disk/-logical/-iscsi, parted, lvm2: the disk, logical and iscsi pool backends and the
# tools they run (pool-types test); a daemon loads backends only when it starts.
L11_SOCK="$L11_ROOT/run/libvirt/libvirt-sock"
L11_URI="qemu:///system?socket=$L11_SOCK"
# Paths as the chroot sees them (the host sees them under $L11_ROOT).
L11_CONF=/etc/libvirt/virtwire-libvirtd.conf
L11_LOG=/var/log/libvirt/virtwire-libvirtd.log
L11_PIDFILE=/run/virtwire-libvirtd.pid
L11_LOGD_PIDFILE=/run/virtwire-virtlogd.pid
L11_SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/testbed.sh"

l11_mirror() {
  if [[ -n ${VIRTWIRE_DEBIAN_MIRROR:-} ]]; then
    echo "$VIRTWIRE_DEBIAN_MIRROR"
    return
  fi
  # The first URIs: line of the machine's deb822 sources that is not the security archive.
  local uri
  uri="$(awk '/^URIs:/ && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null)"
  echo "${uri:-http://deb.debian.org/debian}"
}

# Runs inside a private mount namespace (`_libvirt11-build`): the mounts die with it, so an
# interrupted build never leaves /proc or /dev mounted inside a directory that is later removed.
l11_build_root() { # dir
  local root="$1" mirror
  mirror="$(l11_mirror)"
  debootstrap --variant=minbase "$L11_SUITE" "$root" "$mirror" >"$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; die "debootstrap $L11_SUITE from $mirror failed (log above)"; }
  chmod 755 "$root"
  printf '#!/bin/sh\n# No service starts while packages install.\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 755 "$root/usr/sbin/policy-rc.d"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  local apt=(chroot "$root" apt-get -q -y -o DPkg::Lock::Timeout=300)
  { DEBIAN_FRONTEND=noninteractive "${apt[@]}" update \
    && DEBIAN_FRONTEND=noninteractive "${apt[@]}" install --no-install-recommends "${L11_PACKAGES[@]}" \
    && "${apt[@]}" clean; } >>"$root.log" 2>&1 \
    || { tail -n 20 "$root.log" >&2; die "apt-get install in the $L11_SUITE root failed (log above)"; }
  # QEMU as root (as prepare_qemu_conf does for 9.0): it opens files in tests' 0700 temp dirs.
  printf '# Added by virtwire scripts/testbed.sh\nuser = "root"\ngroup = "root"\n' \
    >>"$root/etc/libvirt/qemu.conf"
  # libvirt 11 prefers nftables, whose rules need a kernel feature (act_csum) this kernel lacks.
  if grep -q '^#firewall_backend' "$root/etc/libvirt/network.conf" 2>/dev/null; then
    printf '# Added by virtwire scripts/testbed.sh\nfirewall_backend = "iptables"\n' \
      >>"$root/etc/libvirt/network.conf"
  fi
  rm -f "$root.log"
}

l11_recipe() {
  { echo "$L11_SUITE ${L11_PACKAGES[*]}"; declare -f l11_build_root; } | sha256sum | cut -d' ' -f1
}

l11_root_current() {
  [[ "$(cat "$L11_ROOT/.virtwire-recipe" 2>/dev/null)" == "$(l11_recipe)" ]]
}

# The test guest's kernel and initramfs as this daemon's own files. libvirt locks a file (a POSIX
# lock on one byte) while it relabels it for a starting guest, and gives up after 10 s; two daemons
# sharing one initrd then fail each other's starts whenever one of them stalls with the lock held,
# which a host running one libvirt never sees. (Copies, not links: the lock is the inode's.)
L11_GUEST="$(dirname "$GUEST_CACHE")/$(basename "$GUEST_CACHE")-libvirt11"

l11_guest_copy() {
  if cmp -s "$GUEST_CACHE/stamp" "$L11_GUEST/stamp"; then return; fi
  mkdir -p "$L11_GUEST"
  local file
  # Renamed into place, as guest_build does: a guest starting meanwhile reads a whole old file.
  for file in vmlinuz initrd.gz stamp; do
    install -m 0644 "$GUEST_CACHE/$file" "$L11_GUEST/.$file.new"
    mv -f "$L11_GUEST/.$file.new" "$L11_GUEST/$file"
  done
  say "libvirt 11: its copy of the test guest in $L11_GUEST"
}

# Host paths tests pass to the daemon (files, pools, the guest kernel), bound at the same paths.
l11_binds() {
  local p
  for p in /tmp /var/cache/virtwire "$GUEST_CACHE" "$L11_GUEST"; do
    [[ $p == /var/cache/virtwire/* ]] || echo "$p"
  done | awk '!seen[$0]++'
}

l11_remove_dir() { # dir: a build or old root; never follows a mount out of its filesystem
  if findmnt -rn -o TARGET | grep -qF "$1"; then
    die "$1 has mounts under it; unmount them, then run: $0 up"
  fi
  rm -rf --one-file-system "$1" "$1.log"
}

l11_ensure_root() {
  if l11_root_current; then
    say "libvirt 11: root up to date in $L11_ROOT"
    return
  fi
  command -v debootstrap >/dev/null || die "debootstrap is missing (run: $0 up)"
  local parent base dir start=$SECONDS
  parent="$(dirname "$L11_ROOT")"
  base="$(basename "$L11_ROOT")"
  mkdir -p "$parent"
  for dir in "$parent/.$base".build.* "$parent/.$base".old.*; do
    [[ -d $dir ]] && l11_remove_dir "$dir"
  done
  if l11_running; then
    say "libvirt 11: its recipe changed; stopping the daemon to rebuild its root"
    l11_down
  fi
  dir="$(mktemp -d "$parent/.$base.build.XXXXXX")"
  say "libvirt 11: building the $L11_SUITE root (debootstrap + ${#L11_PACKAGES[@]} packages, about 2 minutes)"
  unshare -m --propagation private "$L11_SELF" _libvirt11-build "$dir" 9>&- \
    || die "libvirt 11: building the root failed; the next \`up\` starts again"
  l11_recipe >"$dir/.virtwire-recipe"
  if [[ -e $L11_ROOT ]]; then
    local old
    old="$(mktemp -d "$parent/.$base.old.XXXXXX")"
    mv "$L11_ROOT" "$old/root"
    mv "$dir" "$L11_ROOT"
    l11_remove_dir "$old"
  else
    mv "$dir" "$L11_ROOT"
  fi
  say "libvirt 11: root built in $((SECONDS - start)) s ($(du -sh "$L11_ROOT" | cut -f1))"
}

l11_write_config() { # file
  cat >"$1" <<EOF
# Written by virtwire scripts/testbed.sh; edit the script, not this file. A change restarts libvirtd.
# Unix sockets only (root), no authentication.
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$L11_LOG"
# Host paths bound into its root (a change restarts it, so that it sees them): $(l11_binds | tr '\n' ' ')
EOF
}

# The pid files survive a reboot (the root's /run is a plain directory): a pid counts only while
# its process runs chrooted in this root.
l11_pid() { # chroot pid file -> pid, if that process runs in the root
  local pid
  pid="$(cat "$L11_ROOT$1" 2>/dev/null)" && [[ $pid =~ ^[0-9]+$ ]] && running "$pid" \
    && [[ "$(readlink "/proc/$pid/root")" == "$(realpath "$L11_ROOT")" ]] && echo "$pid"
}

l11_running() { l11_pid "$L11_PIDFILE" >/dev/null; }

# shellcheck disable=SC2120 # revive.sh passes a longer wait
l11_answers() { # [seconds to wait, default 10]
  [[ -S $L11_SOCK ]] && timeout "${1:-10}" virsh -q -c "$L11_URI" version >/dev/null 2>&1
}

# Runs inside `ip netns exec $L11_NETNS unshare -m` (`_libvirt11-start`): mounts, then the daemons.
# `mount --bind ROOT ROOT` first: QEMU builds its own mount namespace from / and needs / inside
# the chroot to be a mount point.
l11_start_in_namespaces() {
  mount --bind "$L11_ROOT" "$L11_ROOT"
  mount -t proc proc "$L11_ROOT/proc"
  mount --rbind /sys "$L11_ROOT/sys"
  mount --rbind /dev "$L11_ROOT/dev"
  local p
  while read -r p; do
    mkdir -p "$p" "$L11_ROOT$p"
    mount --bind "$p" "$L11_ROOT$p"
  done < <(l11_binds)
  mkdir -p "$L11_ROOT/var/log/libvirt"
  if ! l11_pid "$L11_LOGD_PIDFILE" >/dev/null; then
    chroot "$L11_ROOT" virtlogd -d -p "$L11_LOGD_PIDFILE" || die "the $L11_SUITE virtlogd failed to start"
  fi
  chroot "$L11_ROOT" libvirtd -d -f "$L11_CONF" -p "$L11_PIDFILE"
}

l11_failure() {
  echo "testbed: error: libvirt 11: $1" >&2
  tail -n 20 "$STATE/libvirtd11.out" "$L11_ROOT$L11_LOG" 2>/dev/null | sed 's/^/  /' >&2
  exit 1
}

l11_start() {
  : >"$STATE/libvirtd11.out"
  ip netns exec "$L11_NETNS" unshare -m --propagation private "$L11_SELF" _libvirt11-start \
    >>"$STATE/libvirtd11.out" 2>&1 9>&- || l11_failure "libvirtd -d exited with an error"
  l11_wait
}

l11_wait() {
  local pid deadline=$((SECONDS + START_TIMEOUT))
  pid="$(cat "$L11_ROOT$L11_PIDFILE" 2>/dev/null)" || l11_failure "libvirtd wrote no pid file"
  until l11_answers; do
    running "$pid" || l11_failure "libvirtd (pid $pid) exited during start-up"
    ((SECONDS < deadline)) || l11_failure "libvirtd did not answer $L11_URI within ${START_TIMEOUT}s"
    sleep 0.2
  done
}

l11_netns() {
  if ! ip netns list | grep -qE "^$L11_NETNS( |\$)"; then
    ip netns add "$L11_NETNS" || die "cannot create network namespace $L11_NETNS"
    touch "$STATE/netns11.created"
  fi
  ip netns exec "$L11_NETNS" ip link set lo up
}

l11_up() {
  local start=$SECONDS
  l11_ensure_root
  l11_guest_copy
  l11_write_config "$L11_ROOT$L11_CONF.new"
  if l11_running; then
    if cmp -s "$L11_ROOT$L11_CONF.new" "$L11_ROOT$L11_CONF"; then
      rm -f "$L11_ROOT$L11_CONF.new"
      say "libvirt 11: libvirtd already running (pid $(l11_pid "$L11_PIDFILE")), reusing it"
      l11_wait
      return
    fi
    say "libvirt 11: libvirtd configuration changed; restarting libvirtd only"
    stop_pid "libvirtd 11" "$L11_ROOT$L11_PIDFILE"
  fi
  mv "$L11_ROOT$L11_CONF.new" "$L11_ROOT$L11_CONF"
  l11_netns
  l11_start
  say "libvirt 11: libvirtd running in namespace $L11_NETNS (pid $(l11_pid "$L11_PIDFILE")), answers" \
    "$L11_URI ($((SECONDS - start)) s)"
}

l11_down() {
  local name
  if l11_running; then
    while read -r name; do
      [[ -n $name ]] && virsh -q -c "$L11_URI" destroy "$name" >/dev/null && say "libvirt 11: destroyed domain $name"
    done < <(virsh -q -c "$L11_URI" list --name 2>/dev/null || true)
    while read -r name; do
      [[ -n $name ]] && virsh -q -c "$L11_URI" net-destroy "$name" >/dev/null && say "libvirt 11: stopped network $name"
    done < <(virsh -q -c "$L11_URI" net-list --name 2>/dev/null || true)
    stop_pid "libvirtd 11" "$L11_ROOT$L11_PIDFILE"
  fi
  if l11_pid "$L11_LOGD_PIDFILE" >/dev/null; then stop_pid "virtlogd 11" "$L11_ROOT$L11_LOGD_PIDFILE"; fi
  if [[ -e $STATE/netns11.created ]] && ip netns list | grep -qE "^$L11_NETNS( |\$)"; then
    ip netns delete "$L11_NETNS"
    say "removed network namespace $L11_NETNS"
  fi
  rm -f "$STATE/netns11.created"
}

l11_status() {
  if ! l11_root_current; then
    echo "libvirt 11: root ${L11_ROOT} $( [[ -d $L11_ROOT ]] && echo "out of date" || echo "not built")"
  fi
  if l11_running; then
    echo "libvirt 11: libvirtd running, pid $(l11_pid "$L11_PIDFILE"), namespace $L11_NETNS, root $L11_ROOT"
  else
    echo "libvirt 11: libvirtd not running (root $L11_ROOT)"
  fi
  if l11_answers; then
    echo "$L11_URI: answers ($(virsh -q -c "$L11_URI" version 2>/dev/null | sed -n 's/^Running hypervisor: //p'))"
  else
    echo "$L11_URI: does not answer"
  fi
}

l11_env() {
  l11_answers || say "warning: $L11_URI does not answer; run: $0 up"
  cat <<EOF
export VIRTWIRE_TEST_URI_11='$L11_URI'
export VIRTWIRE_LIBVIRT_SOCK_11='$L11_SOCK'
export VIRTWIRE_DAEMON_NETNS_11='$L11_NETNS'
export VIRTWIRE_DAEMON_ROOT_11='$L11_ROOT'
export VIRTWIRE_GUEST_KERNEL_11='$L11_GUEST/vmlinuz'
export VIRTWIRE_GUEST_INITRD_11='$L11_GUEST/initrd.gz'
EOF
}
