#!/bin/sh
# udhcpc event script of the virtwire test guest. busybox ships no default script, so this one applies
# the lease itself. udhcpc calls it with deconfig|bound|renew|leasefail|nak and sets $interface, $ip,
# $mask (prefix length), $router and $dns. Markers go to the console: "lease <ip>", later "renew <ip>".
# shellcheck disable=SC2154 # interface, ip, mask, router, dns come from udhcpc
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound | renew)
    [ "$1" = bound ] && ip -4 addr flush dev "$interface"
    ip addr replace "$ip/${mask:-24}" dev "$interface"
    [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
    : >/etc/resolv.conf
    for server in $dns; do echo "nameserver $server" >>/etc/resolv.conf; done
    if [ "$1" = bound ]; then event=lease; else event=renew; fi
    echo "VIRTWIRE-GUEST: $event $ip"
    ;;
  leasefail | nak)
    echo "VIRTWIRE-GUEST: dhcp $1 on $interface"
    ;;
esac
exit 0
