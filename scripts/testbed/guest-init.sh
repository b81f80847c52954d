#!/bin/busybox sh
# /init (PID 1) of the virtwire test guest, packed into the initramfs by scripts/testbed/guest.sh.
# It prints one marker per line on the console (console=ttyS0):
#   VIRTWIRE-GUEST: booted <kernel version>
#   VIRTWIRE-GUEST: eth0 <mac>
#   VIRTWIRE-GUEST: lease <ip>              (then "renew <ip>"; from /etc/udhcpc.sh; the kernel
#                                           argument virtwire.clientid=HEX sets the DHCP client id)
#   VIRTWIRE-GUEST: cidata <device>         an ISO9660 filesystem labelled cidata was mounted read-only
#   VIRTWIRE-INSTANCE-ID: <id>              instance-id from its meta-data
#   VIRTWIRE-GUEST: no cidata               none found within 10 s
#   VIRTWIRE-GUEST: ready
# Then it stays up; udhcpc keeps renewing the lease and acpid powers off on the ACPI power button.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
# Keep kernel messages off the console so that markers stay on lines of their own.
echo 1 >/proc/sys/kernel/printk

mark() { echo "VIRTWIRE-GUEST: $*"; }

load_modules() {
  while read -r module; do
    out="$(insmod "/lib/modules/$module" 2>&1)" || mark "insmod $module failed: $out"
  done </lib/modules/order
}

start_network() {
  ip link set lo up
  tries=0
  while [ ! -e /sys/class/net/eth0 ] && [ $tries -lt 50 ]; do sleep 0.1; tries=$((tries + 1)); done
  if [ ! -e /sys/class/net/eth0 ]; then
    mark "no eth0"
    return
  fi
  mark "eth0 $(cat /sys/class/net/eth0/address)"
  ip link set eth0 up
  # A discover sent before the link has carrier is lost; wait for it (up to 2 s).
  tries=0
  while [ "$(cat /sys/class/net/eth0/operstate)" != up ] && [ $tries -lt 20 ]; do sleep 0.1; tries=$((tries + 1)); done
  # virtwire.clientid=HEX on the kernel command line sends that DHCP client id (option 61), as a
  # re-imaged guest with a new DHCP identity does: the network then holds two leases for one MAC.
  clientid="$(sed -n 's/.*virtwire[.]clientid=\([0-9a-fA-F]*\).*/\1/p' /proc/cmdline)"
  # Foreground udhcpc in the background: retries until bound, then renews for ever.
  # shellcheck disable=SC2086 # the client id option is one word or none
  udhcpc -i eth0 -s /etc/udhcpc.sh -f -t 5 -T 1 -A 3 -x hostname:virtwire-guest \
    ${clientid:+-x 0x3d:$clientid} &
}

start_acpid() {
  ls /dev/input/event* >/dev/null 2>&1 && acpid -d -c /etc/acpi &
}

# Prints the ISO9660 volume label of a block device, fails if it holds no ISO9660 filesystem.
iso_label() {
  dd if="$1" of=/tmp/pvd bs=2048 skip=16 count=1 2>/dev/null || return 1
  [ "$(dd if=/tmp/pvd bs=1 skip=1 count=5 2>/dev/null)" = CD001 ] || return 1
  dd if=/tmp/pvd bs=1 skip=40 count=32 2>/dev/null | tr -d ' ' | tr '[:upper:]' '[:lower:]'
}

print_instance_id() {
  for file in /mnt/cidata/meta-data /mnt/cidata/[mM][eE][tT][aA][-_][dD][aA][tT]*; do
    [ -f "$file" ] || continue
    id="$(sed -n 's/^instance-id:[[:space:]]*//p' "$file" | head -n 1 | tr -d "\"'\r")"
    echo "VIRTWIRE-INSTANCE-ID: ${id:-unknown}"
    return
  done
  mark "cidata has no meta-data"
}

find_cidata() {
  tries=0
  while [ $tries -lt 20 ]; do
    for dev in /dev/sr* /dev/vd* /dev/sd* /dev/hd*; do
      [ -b "$dev" ] || continue
      [ "$(iso_label "$dev")" = cidata ] || continue
      if mount -t iso9660 -o ro "$dev" /mnt/cidata; then
        mark "cidata $dev"
        print_instance_id
      else
        mark "cannot mount cidata $dev"
      fi
      return
    done
    tries=$((tries + 1))
    sleep 0.5
  done
  mark "no cidata"
}

mark "booted $(uname -r)"
load_modules
start_network
start_acpid
find_cidata
mark ready
while :; do sleep 60; done
