# shellcheck shell=bash
# Sourced by scripts/testbed.sh: builds a real Debian 12 guest (systemd, cloud-init, sshd,
# qemu-guest-agent) once into $DEBIAN_CACHE, outside the repo, with debootstrap from the Debian archive.
#   current/           symlink to the newest complete build (switched atomically with a rename)
#   current/disk.raw   sparse raw ext4 root filesystem (3 GiB, label "root", no partition table)
#   current/disk.qcow2 the same as qcow2 (compat 1.1), for base volumes
#   current/vmlinuz, current/initrd.img  for direct kernel boot with $DEBIAN_CMDLINE
#   current/stamp      hash of the recipe (this file's text and the package list); a changed recipe
#                      rebuilds, an unchanged one reuses the cache
# Boot: domain type "qemu", the disk as virtio /dev/vda, a cloud-init NoCloud seed ("cidata" cdrom),
# a virtio NIC (eth0, DHCP unless the seed's network-config says otherwise), a serial console.
# Build time on this project's 2-core machines: 152–167 s when quiet, 202–327 s while other tests
# ran (most of it debootstrap's download and unpacking); it counts once against CI's 45-minute
# budget on a fresh machine. The result: 813 MiB of data in disk.raw, a 750 MiB qcow2.

DEBIAN_CACHE="${VIRTWIRE_DEBIAN_CACHE:-/var/cache/virtwire/debian}"
DEBIAN_RECIPE="${BASH_SOURCE[0]}"
DEBIAN_CMDLINE="root=/dev/vda rw console=ttyS0 net.ifnames=0"
DEBIAN_SUITE=bookworm
DEBIAN_DISK_SIZE=3G
# debootstrap does not resolve virtual packages: python3-cffi-backend lets python3-cryptography
# (cloud-init → oauthlib) configure; locales lets cloud-init's locale module succeed.
DEBIAN_PACKAGES=(linux-image-amd64 systemd-sysv cloud-init openssh-server qemu-guest-agent ifupdown
  isc-dhcp-client sudo ca-certificates iproute2 udev dbus e2fsprogs python3-cffi-backend locales)
DEBIAN_HOST_TOOLS=(debootstrap e2fsprogs qemu-utils)

debian_stamp() {
  { cat "$DEBIAN_RECIPE"; printf '%s\n' "$DEBIAN_SUITE" "${DEBIAN_PACKAGES[@]}"; } | sha256sum | cut -d' ' -f1
}

debian_current() { # stamp: true when current/ holds a complete build of it
  local dir="$DEBIAN_CACHE/current" f
  [[ "$(cat "$dir/stamp" 2>/dev/null)" == "$1" ]] || return 1
  for f in disk.raw disk.qcow2 vmlinuz initrd.img; do [[ -s $dir/$f ]] || return 1; done
}

# The first URIs: of the machine's own Debian sources (the only archive it may reach).
debian_mirror() {
  if [[ -n ${VIRTWIRE_DEBIAN_MIRROR:-} ]]; then echo "$VIRTWIRE_DEBIAN_MIRROR"; return; fi
  local uri
  uri="$(sed -nE 's/^URIs:[[:space:]]*([^[:space:]]+).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  echo "${uri:-http://deb.debian.org/debian}"
}

debian_chroot() { # root command...
  local root="$1"
  shift
  DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 chroot "$root" "$@"
}

debian_mount() { # root
  mount -t proc proc "$1/proc"
  mount --bind /sys "$1/sys"
  mount --bind /dev "$1/dev"
}

# Also on failure (trap): mkfs -d must never copy a mounted /proc, and a left mount pins the tree.
debian_unmount() { # root
  local m
  for m in dev sys proc; do
    if mountpoint -q "$1/$m"; then umount "$1/$m" || umount -l "$1/$m"; fi
  done
}

debian_configure() { # root stamp
  local root="$1"
  # Daemons must not start inside the chroot while packages configure.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  debian_chroot "$root" apt-get -q -y install -f
  echo 'en_US.UTF-8 UTF-8' >"$root/etc/locale.gen"
  debian_chroot "$root" locale-gen
  echo 'LANG=en_US.UTF-8' >"$root/etc/default/locale"

  echo '/dev/vda / ext4 defaults,errors=remount-ro 0 1' >"$root/etc/fstab"
  echo debian >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 debian\n::1 localhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  : >"$root/etc/resolv.conf"
  # Each guest gets its own machine id and host keys on first boot (systemd, cloud-init).
  : >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/ssh/ssh_host_*
  # cloud-init writes its interface file into interfaces.d.
  printf 'auto lo\niface lo inet loopback\n\nsource /etc/network/interfaces.d/*\n' >"$root/etc/network/interfaces"
  mkdir -p "$root/etc/network/interfaces.d"
  printf 'datasource_list: [ NoCloud, None ]\n' >"$root/etc/cloud/cloud.cfg.d/90_virtwire.cfg"
  printf '%s\n' virtio_pci virtio_blk virtio_net ext4 >>"$root/etc/initramfs-tools/modules"
  debian_chroot "$root" update-initramfs -u -k all
  # A login prompt on the serial console (console=ttyS0 also asks systemd's getty generator for one).
  mkdir -p "$root/etc/systemd/system/getty.target.wants"
  ln -sf /lib/systemd/system/serial-getty@.service \
    "$root/etc/systemd/system/getty.target.wants/serial-getty@ttyS0.service"
  debian_enable_guest_agent "$root"
  # A marker tests read to know which image a guest runs from.
  echo "virtwire debian-12 ${2:0:16}" >"$root/etc/virtwire-image"

  rm -f "$root/usr/sbin/policy-rc.d"
  debian_chroot "$root" apt-get -q clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/debconf/*-old \
    "$root"/var/log/*.log "$root"/var/log/apt/* "$root/var/lib/cloud" "$root"/tmp/* "$root"/root/.bash_history
}

# qemu-guest-agent has no [Install] section: udev starts it when the port org.qemu.guest_agent.0
# appears. Debian's package ships that rule; make sure it is there and the unit is not masked.
debian_enable_guest_agent() { # root
  local root="$1"
  [[ -e $root/lib/systemd/system/qemu-guest-agent.service ]] || die "debian: qemu-guest-agent.service missing from the image"
  rm -f "$root/etc/systemd/system/qemu-guest-agent.service"
  if ! grep -rqs 'org.qemu.guest_agent.0' "$root/lib/udev/rules.d" "$root/etc/udev/rules.d"; then
    printf '%s\n' 'SUBSYSTEM=="virtio-ports", ATTR{name}=="org.qemu.guest_agent.0", TAG+="systemd", ENV{SYSTEMD_WANTS}="qemu-guest-agent.service"' \
      >"$root/etc/udev/rules.d/60-virtwire-qemu-guest-agent.rules"
  fi
}

# Runs in a subshell, so that its EXIT trap unmounts the chroot whatever fails.
debian_make_image() { # work stamp
  local work="$1" root="$1/root" mirror
  mirror="$(debian_mirror)"
  trap 'debian_unmount "'"$root"'"' EXIT
  trap 'exit 130' INT TERM HUP
  say "debian: debootstrap $DEBIAN_SUITE from $mirror"
  local include
  include="$(IFS=,; echo "${DEBIAN_PACKAGES[*]}")"
  debootstrap --variant=minbase --include="$include" "$DEBIAN_SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; die "debian: debootstrap failed (log above)"; }
  debian_mount "$root"
  say "debian: configuring the image (apt-get -f, locale, cloud-init, initramfs)"
  debian_configure "$root" "$2" >"$work/configure.log" 2>&1
  debian_unmount "$root"
  local kernel initrd
  kernel="$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n1)"
  initrd="$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n1)"
  [[ -n $kernel && -n $initrd ]] || die "debian: no kernel or initrd in the image's /boot"
  install -m 0644 "$kernel" "$work/out/vmlinuz"
  install -m 0644 "$initrd" "$work/out/initrd.img"
  say "debian: making the root filesystem ($DEBIAN_DISK_SIZE, sparse) and its qcow2"
  mkfs.ext4 -q -F -d "$root" -L root "$work/out/disk.raw" "$DEBIAN_DISK_SIZE"
  qemu-img convert -O qcow2 -o compat=1.1 "$work/out/disk.raw" "$work/out/disk.qcow2"
  echo "$DEBIAN_CMDLINE" >"$work/out/cmdline"
  echo "$2" >"$work/out/stamp"
}

# What a killed build left (under the lock, no build is running): its mounts and its temp dir.
debian_remove_stale() {
  local dir
  for dir in "$DEBIAN_CACHE"/.build.*; do
    [[ -d $dir ]] || continue
    say "debian: removing $dir, left by an interrupted build"
    debian_unmount "$dir/root"
    rm -rf --one-file-system "$dir"
  done
}

debian_build() {
  local stamp started=$SECONDS
  stamp="$(debian_stamp)"
  if debian_current "$stamp"; then
    say "debian: up to date in $DEBIAN_CACHE/current"
    return
  fi
  local missing=() pkg
  for pkg in "${DEBIAN_HOST_TOOLS[@]}"; do is_installed "$pkg" || missing+=("$pkg"); done
  [[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}"
  mkdir -p "$DEBIAN_CACHE"
  # Its own lock: the build takes minutes, and `up` must not hold the test bed's lock that long.
  exec 8>"$DEBIAN_CACHE/.lock"
  flock -w 3600 8 || die "debian: another build held $DEBIAN_CACHE/.lock for an hour; is one stuck?"
  if debian_current "$stamp"; then
    say "debian: built meanwhile by another run"
    exec 8>&-
    return
  fi
  debian_remove_stale
  say "debian: building a Debian 12 guest into $DEBIAN_CACHE (about 6 minutes)"
  local work
  work="$(mktemp -d "$DEBIAN_CACHE/.build.XXXXXX")"
  mkdir -p "$work/out"
  # `if ! (…)` would switch errexit off inside the subshell; run it plainly and read its status.
  local rc=0
  set +e
  (set -e; debian_make_image "$work" "$stamp")
  rc=$?
  set -e
  if ((rc != 0)); then
    debian_unmount "$work/root"
    tail -n 30 "$work/configure.log" 2>/dev/null | sed 's/^/  /' >&2 || true
    rm -rf --one-file-system "$work"
    die "debian: image build failed; nothing in $DEBIAN_CACHE changed"
  fi
  local dir="$DEBIAN_CACHE/${stamp:0:16}" old
  old="$(readlink "$DEBIAN_CACHE/current" 2>/dev/null || true)"
  rm -rf "$dir"
  mv "$work/out" "$dir"
  rm -rf --one-file-system "$work"
  # A rename replaces the symlink atomically: readers see the old build or the new one, never half.
  ln -sfn "${stamp:0:16}" "$DEBIAN_CACHE/.current.new"
  mv -T "$DEBIAN_CACHE/.current.new" "$DEBIAN_CACHE/current"
  # Keep the previous build: a guest started from it may still boot its kernel and initrd.
  local entry
  for entry in "$DEBIAN_CACHE"/*/; do
    entry="$(basename "$entry")"
    [[ $entry == "${stamp:0:16}" || $entry == "$old" || $entry == current ]] || rm -rf "${DEBIAN_CACHE:?}/$entry"
  done
  exec 8>&-
  say "debian: built in $((SECONDS - started)) s: $dir (qcow2 $(du -m "$dir/disk.qcow2" | cut -f1) MiB," \
    "raw $(du -m "$dir/disk.raw" | cut -f1) MiB used of $DEBIAN_DISK_SIZE)"
}

debian_status() {
  if [[ -s $DEBIAN_CACHE/current/stamp ]]; then
    local state="up to date"
    debian_current "$(debian_stamp)" || state="outdated (recipe changed; run: scripts/testbed.sh debian)"
    echo "debian guest: $DEBIAN_CACHE/current/{disk.raw,disk.qcow2,vmlinuz,initrd.img}, $state"
  else
    echo "debian guest: not built (run: scripts/testbed.sh debian)"
  fi
}
