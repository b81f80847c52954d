#!/usr/bin/env bash
# virtwire test bed: a real libvirtd (QEMU driver, TCG guests) on this machine, for integration tests.
#
# Usage (as root, Debian 12 or Ubuntu):
#   scripts/testbed.sh up      install what is missing, build the test guest, make the TLS test PKI, start
#                              virtlogd, libvirtd (unix sockets, and tcp/tls on 127.0.0.1) and an sshd inside
#                              the network namespace "virtwire", wait until qemu:///system answers; a
#                              changed daemon or sshd config restarts only that daemon
#                              then the libvirt 11 daemon (testbed/libvirt11.sh): a Debian 13 root built
#                              once into /var/cache/virtwire/trixie, its libvirtd in namespace "virtwire11"
#   scripts/testbed.sh down    destroy running domains and active networks of the test bed's daemons, stop
#                              the daemons it started, remove the namespaces if it created them
#   scripts/testbed.sh status  print what runs
#   scripts/testbed.sh env     print shell exports for tests:  eval "$(scripts/testbed.sh env)"
#   scripts/testbed.sh guest   (re)build the test guest (kernel + initramfs) if its inputs changed
#   scripts/testbed.sh debian  build the real Debian 12 guest (cloud-init, sshd, guest agent) if its
#                              recipe changed; `up` does this last, after the daemons run (~6 min once)
#   scripts/testbed.sh revive 9|11
#                              a daemon that does not answer within 30 s: print what it is doing, kill it
#                              and start it again; one that died: print its last faults and start it
#                              (domains and networks keep running). Exit 3: it answered, nothing done.
#                              Test files ask for this when their daemon is silent (test/support/daemon-watch.ts)
#
# Environment: VIRTWIRE_NETNS (default virtwire), VIRTWIRE_CACHE (default /var/cache/virtwire/guest),
# VIRTWIRE_TESTBED_STATE (default /run/virtwire-testbed), VIRTWIRE_GUEST_KVER (kernel version for the guest),
# VIRTWIRE_DEBIAN_CACHE (default /var/cache/virtwire/debian, the real Debian 12 guest).
# libvirt 11: VIRTWIRE_LIBVIRT11_ROOT (default /var/cache/virtwire/trixie), VIRTWIRE_NETNS_11 (default
# virtwire11). VIRTWIRE_DEBIAN_MIRROR (default: the URIs: of /etc/apt/sources.list.d/debian.sources).
# `up` is idempotent: a second run installs nothing and reuses the running daemon. Packages stay installed.
# Bridges, dnsmasq and guest traffic live in the namespace; the unix socket
# /var/run/libvirt/libvirt-sock is reachable from outside it. Guests must use domain type "qemu" (TCG).
# Inside the namespace only (tests run there, see scripts/test.sh): libvirtd on 127.0.0.1:16509 (tcp,
# auth none) and 127.0.0.1:16514 (tls, auth none, client certificate required; PKI in $STATE/pki), and
# sshd on 127.0.0.1:2222 and :2223 (see testbed/sshd.sh). `env` prints where everything is.
set -euo pipefail

TESTBED_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/testbed"
NETNS="${VIRTWIRE_NETNS:-virtwire}"
STATE="${VIRTWIRE_TESTBED_STATE:-/run/virtwire-testbed}"
TEST_URI="qemu:///system"
LIBVIRT_SOCK="/var/run/libvirt/libvirt-sock"
DAEMON_LOG="/var/log/libvirt/virtwire-libvirtd.log"
TCP_PORT=16509
TLS_PORT=16514
START_TIMEOUT=60

PACKAGES=(libvirt-daemon libvirt-clients libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils
  dnsmasq-base iptables iproute2 busybox-static cpio gzip xz-utils python3-libvirt
  openssh-server openssh-client sasl2-bin libsasl2-modules openssl netcat-openbsd
  genisoimage ovmf debootstrap swtpm swtpm-tools parted lvm2)
# genisoimage: only its isoinfo/isovfy, which tests use to read our ISO images back; ovmf: UEFI
# guests (firmware "efi"); debootstrap: the libvirt 11 root (testbed/libvirt11.sh); swtpm,
# swtpm-tools: emulated TPMs (Domain `tpm`). virtiofsd comes with bookworm's qemu-system-common.
# parted, lvm2: the tools libvirt's disk and logical pool backends run (pool-types test, on loop
# devices)

say() { echo "testbed: $*" >&2; }
die() { echo "testbed: error: $*" >&2; exit 1; }

# shellcheck source-path=SCRIPTDIR source=testbed/guest.sh
source "$TESTBED_DIR/guest.sh"
# shellcheck source-path=SCRIPTDIR source=testbed/debian-guest.sh
source "$TESTBED_DIR/debian-guest.sh"
# shellcheck source-path=SCRIPTDIR source=testbed/pki.sh
source "$TESTBED_DIR/pki.sh"
# shellcheck source-path=SCRIPTDIR source=testbed/sshd.sh
source "$TESTBED_DIR/sshd.sh"
# shellcheck source-path=SCRIPTDIR source=testbed/libvirt11.sh
source "$TESTBED_DIR/libvirt11.sh"
# shellcheck source-path=SCRIPTDIR source=testbed/revive.sh
source "$TESTBED_DIR/revive.sh"

require_root() {
  [[ $(id -u) -eq 0 ]] || die "must run as root (libvirtd, network namespaces and apt need it); try: sudo $0 $*"
}

# --- packages -------------------------------------------------------------------------------------

distro_packages() {
  local id="" id_like=""
  # shellcheck disable=SC1091
  [[ -r /etc/os-release ]] && { id="$(. /etc/os-release; echo "${ID:-}")"; id_like="$(. /etc/os-release; echo "${ID_LIKE:-}")"; }
  printf '%s\n' "${PACKAGES[@]}"
  if [[ $id == ubuntu || $id_like == *ubuntu* ]]; then
    printf '%s\n' linux-image-generic zstd   # Ubuntu ships modules as .ko.zst
  else
    echo linux-image-amd64
  fi
}

is_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

install_packages() {
  local missing=() pkg
  while read -r pkg; do is_installed "$pkg" || missing+=("$pkg"); done < <(distro_packages)
  if [[ ${#missing[@]} -eq 0 ]]; then
    say "packages: all present"
    return
  fi
  apt_install "${missing[@]}"
}

apt_install() { # package...
  say "packages: installing $*"
  # Lock::Timeout waits for another apt/dpkg run (e.g. an unattended install) instead of failing.
  local apt=(apt-get -q -o DPkg::Lock::Timeout=900)
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update \
    || die "apt-get update failed; check network access to the distribution mirror"
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends "$@" \
    || die "apt-get install failed; see the output above (is another package manager holding the lock?)"
}

# --- host preparation -----------------------------------------------------------------------------

# libvirt-daemon-system normally creates these; the QEMU driver looks its built-in default user up
# before it reads qemu.conf, so they must exist even though QEMU runs as root below.
ensure_qemu_accounts() {
  getent group kvm >/dev/null || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  if ! getent passwd libvirt-qemu >/dev/null; then
    useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt \
      --no-create-home --shell /usr/sbin/nologin libvirt-qemu
    say "created system user libvirt-qemu"
  fi
}

# QEMU running as an unprivileged user cannot open files in the 0700 temp dirs tests make (mkdtemp);
# run QEMU as root, which is what a test bed wants.
prepare_qemu_conf() {
  local conf=/etc/libvirt/qemu.conf
  mkdir -p /etc/libvirt /var/log/libvirt /var/lib/libvirt/qemu /var/cache/libvirt/qemu "$STATE"
  ensure_qemu_accounts
  if [[ -f $conf ]] && grep -qE '^[[:space:]]*user[[:space:]]*=' "$conf"; then
    local user
    user="$(sed -nE 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"([^"]*)".*/\1/p' "$conf" | tail -n1)"
    id "$user" >/dev/null 2>&1 \
      || die "$conf runs QEMU as '$user', who does not exist; create the user or set user = \"root\""
    return
  fi
  say "setting user/group root for QEMU in $conf"
  printf '# Added by virtwire scripts/testbed.sh: run QEMU as root on this test machine.\nuser = "root"\ngroup = "root"\n' >>"$conf"
}

write_daemon_config() { # file
  cat >"$1" <<EOF
# Written by virtwire scripts/testbed.sh; edit the script, not this file. A change restarts libvirtd.
# No authentication on the unix sockets, so only root and group $SOCK_GROUP (the ssh test user) may
# open them (the default would be 0777).
unix_sock_group = "$SOCK_GROUP"
unix_sock_ro_perms = "0770"
unix_sock_rw_perms = "0770"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:$DAEMON_LOG"
# tcp and tls listeners (libvirtd --listen), on the namespace's loopback only: tests reach them.
listen_addr = "127.0.0.1"
listen_tcp = 1
tcp_port = "$TCP_PORT"
auth_tcp = "none"
listen_tls = 1
tls_port = "$TLS_PORT"
auth_tls = "none"
ca_file = "$PKI_DIR/cacert.pem"
cert_file = "$PKI_DIR/servercert.pem"
key_file = "$PKI_DIR/serverkey.pem"
# test PKI $(pki_digest)
EOF
}

ensure_netns() {
  if ! ip netns list | grep -qE "^$NETNS( |\$)"; then
    ip netns add "$NETNS" || die "cannot create network namespace $NETNS (needs root and CONFIG_NET_NS)"
    touch "$STATE/netns.created"
    say "created network namespace $NETNS"
  fi
  ip netns exec "$NETNS" ip link set lo up
}

# --- daemons --------------------------------------------------------------------------------------

# True while the process exists and is not a zombie (PID 1 here may reap exited daemons slowly).
running() { # pid
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" && [[ ${stat##*) } != Z* ]]
}

pid_alive() { # pidfile [command name]
  local pid
  [[ -s $1 ]] && pid="$(cat "$1")" && [[ $pid =~ ^[0-9]+$ ]] && running "$pid" \
    && [[ -z ${2:-} || "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]]
}

daemon_answers() { # [seconds to wait, default 10]
  [[ -S $LIBVIRT_SOCK ]] && timeout "${1:-10}" virsh -q -c "$TEST_URI" version >/dev/null 2>&1
}

ours() { pid_alive "$STATE/$1.pid" "$1"; }   # libvirtd | virtlogd, started by the test bed

start_virtlogd() {
  if ours virtlogd || { pid_alive /var/run/virtlogd.pid && [[ -S /run/libvirt/virtlogd-sock ]]; }; then
    return
  fi
  ip netns exec "$NETNS" virtlogd -d -p "$STATE/virtlogd.pid" 2>>"$STATE/virtlogd.out" 9>&- \
    || die "virtlogd failed to start; see $STATE/virtlogd.out"
}

start_libvirtd() {
  : >"$STATE/libvirtd.out"
  ip netns exec "$NETNS" libvirtd -d --listen -f "$STATE/libvirtd.conf" -p "$STATE/libvirtd.pid" \
    >>"$STATE/libvirtd.out" 2>&1 9>&- || daemon_failure "libvirtd -d exited with an error"
}

daemon_failure() {
  echo "testbed: error: $1" >&2
  echo "testbed: last lines of $STATE/libvirtd.out and $DAEMON_LOG:" >&2
  tail -n 20 "$STATE/libvirtd.out" "$DAEMON_LOG" 2>/dev/null | sed 's/^/  /' >&2
  echo "testbed: fix the cause above, then run: $0 down && $0 up" >&2
  exit 1
}

# libvirtd removes its pid file when it exits, so follow the pid read once at the start.
wait_for_daemon() {
  local deadline=$((SECONDS + START_TIMEOUT)) pid
  pid="$(cat "$STATE/libvirtd.pid" 2>/dev/null)" || daemon_failure "libvirtd wrote no pid file"
  until daemon_answers; do
    running "$pid" || daemon_failure "libvirtd (pid $pid) exited during start-up"
    ((SECONDS < deadline)) || daemon_failure "libvirtd did not answer $TEST_URI within ${START_TIMEOUT}s"
    sleep 0.2
  done
}

# The tcp and tls listeners answer inside the namespace (they open with the unix sockets).
wait_for_listeners() {
  local deadline=$((SECONDS + 10)) port
  for port in "$TCP_PORT" "$TLS_PORT"; do
    until ip netns exec "$NETNS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; do
      ((SECONDS < deadline)) || daemon_failure "libvirtd does not listen on 127.0.0.1:$port in $NETNS"
      sleep 0.2
    done
  done
}

# Starts libvirtd and returns once it answers on its socket and its tcp and tls listeners.
launch_libvirtd() {
  start_libvirtd
  wait_for_daemon
  wait_for_listeners
}

# True when the running daemon was started with --listen and the config it read is the one wanted.
daemon_config_current() {
  write_daemon_config "$STATE/libvirtd.conf.new"
  local pid
  pid="$(cat "$STATE/libvirtd.pid")"
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- ' --listen ' \
    && cmp -s "$STATE/libvirtd.conf.new" "$STATE/libvirtd.conf"
}

# Only libvirtd restarts: domains (QEMU) and networks (dnsmasq) keep running and are picked up again.
restart_libvirtd() {
  say "libvirtd configuration changed (tcp/tls listeners, socket group or PKI); restarting libvirtd only"
  stop_pid libvirtd "$STATE/libvirtd.pid"
  mv "$STATE/libvirtd.conf.new" "$STATE/libvirtd.conf"
  launch_libvirtd
  say "libvirtd restarted in namespace $NETNS (pid $(cat "$STATE/libvirtd.pid"))"
}

daemon_up() {
  if ours libvirtd; then
    if ! daemon_config_current; then
      restart_libvirtd
      return
    fi
    rm -f "$STATE/libvirtd.conf.new"
    say "libvirtd already running (pid $(cat "$STATE/libvirtd.pid")), reusing it"
    wait_for_daemon
    return
  fi
  if daemon_answers; then
    say "a libvirtd the test bed did not start answers $TEST_URI; reusing it"
    return
  fi
  rm -f "$STATE/libvirtd.pid"
  command -v iptables >/dev/null || die "iptables must be installed before libvirtd starts"
  prepare_qemu_conf
  write_daemon_config "$STATE/libvirtd.conf"
  start_virtlogd
  launch_libvirtd
  say "libvirtd running in namespace $NETNS (pid $(cat "$STATE/libvirtd.pid")), $TEST_URI answers"
}

stop_pid() { # name pidfile
  local pid
  pid="$(cat "$2")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 75); do running "$pid" || break; sleep 0.2; done
  if running "$pid"; then
    say "$1 (pid $pid) ignored SIGTERM for 15 s; killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$2"
  say "stopped $1 (pid $pid)"
}

# Domains and networks keep running (QEMU, dnsmasq) when libvirtd stops; stop them first.
stop_guests_and_networks() {
  local name
  while read -r name; do
    [[ -n $name ]] || continue
    if virsh -q -c "$TEST_URI" destroy "$name" >/dev/null; then say "destroyed domain $name"; fi
  done < <(virsh -q -c "$TEST_URI" list --name 2>/dev/null || true)
  while read -r name; do
    [[ -n $name ]] || continue
    if virsh -q -c "$TEST_URI" net-destroy "$name" >/dev/null; then say "stopped network $name"; fi
  done < <(virsh -q -c "$TEST_URI" net-list --name 2>/dev/null || true)
}

remove_netns() {
  [[ -e $STATE/netns.created ]] || return 0
  if ip netns list | grep -qE "^$NETNS( |\$)"; then
    local pids
    pids="$(ip netns pids "$NETNS" | tr '\n' ' ')"
    [[ -z $pids ]] || say "warning: processes still in namespace $NETNS: $pids(the namespace lives on until they exit)"
    ip netns delete "$NETNS"
    say "removed network namespace $NETNS"
  fi
  rm -f "$STATE/netns.created"
}

# --- subcommands ----------------------------------------------------------------------------------

# Serialises up, down and guest, which several test runs may call at once. The daemons are started
# with fd 9 closed, so that they do not hold the lock.
lock_state() {
  mkdir -p "$STATE"
  exec 9>"$STATE/testbed.lock"
  flock -w 300 9 || die "another testbed.sh run held $STATE/testbed.lock for 5 minutes; is one stuck?"
}

cmd_up() {
  require_root up
  lock_state
  install_packages
  guest_build
  ensure_netns   # also with a reused daemon: tests run inside it (scripts/test.sh)
  pki_ensure
  mkdir -p "$SSHD_DIR"
  ssh_accounts   # the socket group must exist before libvirtd starts
  daemon_up
  sshd_up
  l11_up
  exec 9>&-      # the Debian image takes minutes to build; it has its own lock
  debian_build
}

cmd_down() {
  require_root down
  lock_state
  if ours libvirtd; then
    stop_guests_and_networks
    stop_pid libvirtd "$STATE/libvirtd.pid"
  elif daemon_answers; then
    say "libvirtd was not started by the test bed; leaving it running"
  fi
  if ours virtlogd; then stop_pid virtlogd "$STATE/virtlogd.pid"; fi
  sshd_down
  l11_down
  remove_netns
  rm -f "$STATE/libvirtd.pid" "$STATE/virtlogd.pid"
}

daemon_netns() { # prints the namespace libvirtd runs in, or nothing
  local pidfile="$STATE/libvirtd.pid"
  ours libvirtd || pidfile=/var/run/libvirtd.pid
  if pid_alive "$pidfile"; then ip netns identify "$(cat "$pidfile")" 2>/dev/null || true; fi
}

cmd_status() {
  local ns_state=absent
  ip netns list 2>/dev/null | grep -qE "^$NETNS( |\$)" && ns_state=present
  [[ -e $STATE/netns.created ]] && ns_state+=" (created by the test bed)"
  echo "namespace $NETNS: $ns_state"
  local d
  for d in virtlogd libvirtd; do
    if ours "$d"; then echo "$d: running, pid $(cat "$STATE/$d.pid"), started by the test bed"
    elif pid_alive "/var/run/$d.pid"; then echo "$d: running, pid $(cat "/var/run/$d.pid"), not started by the test bed"
    else echo "$d: not running (by pid file)"; fi
  done
  if daemon_answers; then
    echo "$TEST_URI: answers ($(virsh -q -c "$TEST_URI" version 2>/dev/null | sed -n 's/^Running hypervisor: //p'))"
    echo "  daemon network namespace: $(daemon_netns | grep . || echo 'host (none)')"
    echo "  running domains: $(virsh -q -c "$TEST_URI" list --name | sed '/^$/d' | wc -l)," \
      "active networks: $(virsh -q -c "$TEST_URI" net-list --name | sed '/^$/d' | wc -l)"
  else
    echo "$TEST_URI: does not answer"
  fi
  sshd_status
  if ours libvirtd; then
    echo "tcp/tls: 127.0.0.1:$TCP_PORT and 127.0.0.1:$TLS_PORT in $NETNS (PKI $PKI_DIR)"
  fi
  guest_status
  l11_status
  debian_status
}

# VIRTWIRE_NETNS is the namespace to run tests in; VIRTWIRE_DAEMON_NETNS the one libvirtd runs in,
# which differs (empty: the host's) only when `up` reused a daemon it did not start.
cmd_env() {
  local daemon_ns="$NETNS"
  if ! ours libvirtd; then
    if daemon_answers; then daemon_ns="$(daemon_netns)"; else say "warning: $TEST_URI does not answer; run: $0 up"; fi
  fi
  cat <<EOF
export VIRTWIRE_TEST_URI='$TEST_URI'
export VIRTWIRE_LIBVIRT_SOCK='$LIBVIRT_SOCK'
export VIRTWIRE_NETNS='$NETNS'
export VIRTWIRE_DAEMON_NETNS='$daemon_ns'
export VIRTWIRE_GUEST_KERNEL='$GUEST_CACHE/vmlinuz'
export VIRTWIRE_GUEST_INITRD='$GUEST_CACHE/initrd.gz'
export VIRTWIRE_GUEST_CMDLINE='console=ttyS0'
export VIRTWIRE_GUEST_DOMAIN_TYPE='qemu'
export VIRTWIRE_DEBIAN_RAW='$DEBIAN_CACHE/current/disk.raw'
export VIRTWIRE_DEBIAN_QCOW2='$DEBIAN_CACHE/current/disk.qcow2'
export VIRTWIRE_DEBIAN_KERNEL='$DEBIAN_CACHE/current/vmlinuz'
export VIRTWIRE_DEBIAN_INITRD='$DEBIAN_CACHE/current/initrd.img'
export VIRTWIRE_DEBIAN_CMDLINE='$DEBIAN_CMDLINE'
export VIRTWIRE_TCP_URI='qemu+tcp://127.0.0.1:$TCP_PORT/system'
export VIRTWIRE_TLS_URI='qemu+tls://127.0.0.1:$TLS_PORT/system?pkipath=$PKI_DIR'
export VIRTWIRE_TLS_PKI='$PKI_DIR'
export VIRTWIRE_SSH_HOST='127.0.0.1'
export VIRTWIRE_SSH_PORT='$SSH_PORT'
export VIRTWIRE_SSH_NOHELPER_PORT='$SSH_NOHELPER_PORT'
export VIRTWIRE_SSH_DIR='$SSHD_DIR'
export VIRTWIRE_SSH_USER='$SSH_USER'
export VIRTWIRE_SSH_PASSWORD_FILE='$SSHD_DIR/$SSH_USER.password'
EOF
  l11_env
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    guest) require_root guest; lock_state; guest_build; l11_guest_copy ;;
    debian) require_root debian; debian_build ;;
    revive) cmd_revive "${2:-}" ;;
    # Internal: run by testbed/libvirt11.sh inside the namespaces it made (unshare -m, ip netns exec).
    _libvirt11-build) l11_build_root "$2" ;;
    _libvirt11-start) l11_start_in_namespaces ;;
    *) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0" >&2; exit 2 ;;
  esac
}

main "$@"
