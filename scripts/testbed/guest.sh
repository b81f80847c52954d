# shellcheck shell=bash
# Sourced by scripts/testbed.sh: builds the tiny test guest into $GUEST_CACHE, outside the repo.
#   vmlinuz    copy of the distribution kernel (/boot/vmlinuz-<version>)
#   initrd.gz  gzip'd cpio (newc): busybox-static, /init (guest-init.sh), the udhcpc event script and
#              the kernel modules below, decompressed, with /lib/modules/order listing them in load order
#   stamp      hash of the inputs; the guest is rebuilt only when it changes
# Boot it with domain type "qemu", <kernel>, <initrd>, <cmdline>console=ttyS0</cmdline>, a serial console.

GUEST_CACHE="${VIRTWIRE_CACHE:-/var/cache/virtwire/guest}"
GUEST_SOURCES="$(dirname "${BASH_SOURCE[0]}")"

# Loaded in this order (dependencies from modules.dep first); built-in ones are skipped.
GUEST_NET_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
  failover net_failover virtio_net)
# Disks and cdroms (cidata): virtio, SATA (ahci), IDE (ata_piix); crypto back ends sd_mod's CRCs ask
# for through softdeps, which insmod does not follow; ACPI power button + evdev for acpid (shutdown).
GUEST_EXTRA_MODULES=(virtio_blk scsi_mod cdrom sr_mod isofs libata libahci ahci ata_piix ata_generic
  crct10dif_generic crc64_rocksoft_generic sd_mod button evdev)

guest_kernel_version() {
  if [[ -n ${VIRTWIRE_GUEST_KVER:-} ]]; then
    echo "$VIRTWIRE_GUEST_KVER"
    return
  fi
  local pkg dep
  for pkg in linux-image-amd64 linux-image-generic; do
    dep="$(dpkg-query -W -f='${Depends}' "$pkg" 2>/dev/null | grep -oE 'linux-image-[0-9][^ ,]*' | head -n1)" || true
    if [[ -n $dep && -e /boot/vmlinuz-${dep#linux-image-} ]]; then
      echo "${dep#linux-image-}"
      return
    fi
  done
  local newest
  newest="$(find /boot -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n1)"
  [[ -n $newest ]] || die "no kernel in /boot; install linux-image-amd64 (run: scripts/testbed.sh up)"
  echo "$newest"
}

guest_stamp() { # kver
  {
    echo "$1"
    sha256sum "$GUEST_SOURCES/guest.sh" "$GUEST_SOURCES/guest-init.sh" "$GUEST_SOURCES/udhcpc.sh" \
      /bin/busybox "/boot/vmlinuz-$1" | cut -d' ' -f1
  } | sha256sum | cut -d' ' -f1
}

# Fills MOD_PATH[name] and MOD_DEPS[name] from modules.dep, MOD_BUILTIN[name] from modules.builtin.
guest_load_module_index() { # kdir
  declare -gA MOD_PATH=() MOD_DEPS=() MOD_BUILTIN=()
  local line path base
  while IFS= read -r line; do
    path="${line%%:*}"
    base="${path##*/}"
    base="${base%%.ko*}"
    MOD_PATH[${base//-/_}]="$path"
    MOD_DEPS[${base//-/_}]="${line#*:}"
  done <"$1/modules.dep"
  while IFS= read -r path; do
    base="${path##*/}"
    base="${base%%.ko*}"
    MOD_BUILTIN[${base//-/_}]=1
  done < <(cat "$1/modules.builtin" 2>/dev/null || true)
}

# Appends the module's dependencies, then the module, to MOD_ORDER (paths); fails if it is unknown.
guest_resolve() { # name
  local name="${1//-/_}" dep base
  [[ -z ${MOD_SEEN[$name]:-} ]] || return 0
  MOD_SEEN[$name]=1
  [[ -z ${MOD_BUILTIN[$name]:-} ]] || return 0
  [[ -n ${MOD_PATH[$name]:-} ]] || return 1
  for dep in ${MOD_DEPS[$name]}; do
    base="${dep##*/}"
    guest_resolve "${base%%.ko*}" || die "module $name needs ${base%%.ko*}, which modules.dep does not list"
  done
  MOD_ORDER+=("${MOD_PATH[$name]}")
}

guest_copy_modules() { # kdir root
  declare -gA MOD_SEEN=()
  MOD_ORDER=()
  local name path out
  guest_load_module_index "$1"
  for name in "${GUEST_NET_MODULES[@]}"; do
    guest_resolve "$name" || die "kernel module $name missing from $1; reinstall the kernel package"
  done
  for name in "${GUEST_EXTRA_MODULES[@]}"; do
    guest_resolve "$name" || say "guest: kernel module $name not available, skipping it"
  done
  mkdir -p "$2/lib/modules"
  for path in "${MOD_ORDER[@]}"; do
    out="${path##*/}"
    out="${out%%.ko*}.ko"
    case "$path" in
      *.ko) cp "$1/$path" "$2/lib/modules/$out" ;;
      *.ko.xz) xz -dc "$1/$path" >"$2/lib/modules/$out" ;;
      *.ko.zst) zstd -qdc "$1/$path" >"$2/lib/modules/$out" ;;
      *.ko.gz) gzip -dc "$1/$path" >"$2/lib/modules/$out" ;;
      *) die "unknown module format: $path" ;;
    esac
    echo "$out" >>"$2/lib/modules/order"
  done
}

guest_make_root() { # root kver
  local root="$1"
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,tmp,mnt/cidata,etc/acpi/PWRF}
  cp /bin/busybox "$root/bin/busybox"
  install -m 0755 "$GUEST_SOURCES/guest-init.sh" "$root/init"
  install -m 0755 "$GUEST_SOURCES/udhcpc.sh" "$root/etc/udhcpc.sh"
  # busybox acpid runs /etc/acpi/PWRF/00000080 on a power-button press (virsh shutdown).
  printf '#!/bin/sh\necho "VIRTWIRE-GUEST: power button, powering off"\nsync\npoweroff -f\n' \
    >"$root/etc/acpi/PWRF/00000080"
  chmod 0755 "$root/etc/acpi/PWRF/00000080"
  mknod -m 0600 "$root/dev/console" c 5 1 2>/dev/null || true
  guest_copy_modules "/lib/modules/$2" "$root"
}

guest_build() {
  local kver stamp
  kver="$(guest_kernel_version)"
  [[ -r /boot/vmlinuz-$kver && -r /lib/modules/$kver/modules.dep ]] \
    || die "kernel $kver or its modules are missing; install linux-image-amd64 (run: scripts/testbed.sh up)"
  { [[ -x /bin/busybox ]] && /bin/busybox --list | grep -qx udhcpc; } \
    || die "/bin/busybox (with udhcpc) is missing; install busybox-static (run: scripts/testbed.sh up)"
  stamp="$(guest_stamp "$kver")"
  if [[ -s $GUEST_CACHE/vmlinuz && -s $GUEST_CACHE/initrd.gz ]] \
    && [[ "$(cat "$GUEST_CACHE/stamp" 2>/dev/null)" == "$stamp $kver" ]]; then
    say "guest: up to date in $GUEST_CACHE (kernel $kver)"
    return
  fi
  say "guest: building for kernel $kver into $GUEST_CACHE"
  mkdir -p "$GUEST_CACHE"
  local root
  root="$(mktemp -d)"
  # shellcheck disable=SC2064
  trap "rm -rf '$root'; trap - RETURN" RETURN
  guest_make_root "$root/tree" "$kver"
  (cd "$root/tree" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$root/initrd.gz"
  # Rename into place, so that a guest starting meanwhile reads either the old or the new file.
  install -m 0644 "$root/initrd.gz" "$GUEST_CACHE/.initrd.gz.new"
  install -m 0644 "/boot/vmlinuz-$kver" "$GUEST_CACHE/.vmlinuz.new"
  mv -f "$GUEST_CACHE/.initrd.gz.new" "$GUEST_CACHE/initrd.gz"
  mv -f "$GUEST_CACHE/.vmlinuz.new" "$GUEST_CACHE/vmlinuz"
  echo "$stamp $kver" >"$GUEST_CACHE/stamp"
  say "guest: built $GUEST_CACHE/vmlinuz and initrd.gz ($(du -k "$GUEST_CACHE/initrd.gz" | cut -f1) KiB," \
    "$(wc -l <"$root/tree/lib/modules/order") modules)"
}

guest_status() {
  if [[ -s $GUEST_CACHE/stamp ]]; then
    echo "guest: $GUEST_CACHE/{vmlinuz,initrd.gz}, kernel $(cut -d' ' -f2 "$GUEST_CACHE/stamp")"
  else
    echo "guest: not built (run: scripts/testbed.sh guest)"
  fi
}
