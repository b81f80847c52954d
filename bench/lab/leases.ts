/**
 * When the guests of one run got their addresses, seen from the daemon and the same way for
 * either tool: every `VWBENCH_POLL_MS` the harness (its own connection, straight to the daemon's
 * socket, not through the relay) looks for the active network whose XML has the run's subnet (a
 * random /24 per run), then asks that network's dnsmasq leases (NetworkGetDHCPLeases). A lease's
 * time is the poll that first saw it, so the figure is late by up to one poll interval.
 */
import type { Libvirt } from "../../rpc";
import { now } from "./proxy";

const ACTIVE_NETWORKS = 2; // VIR_CONNECT_LIST_NETWORKS_ACTIVE

export class LeaseWatch {
  private readonly seen = new Map<string, number>();
  private readonly checked = new Set<string>();
  private network?: string;
  private timer?: NodeJS.Timeout;
  private busy = false;

  constructor(
    private readonly lv: Libvirt,
    private readonly subnet: string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** When the `count`-th distinct address was first seen, if it was. */
  lastAddressAt(count: number): number | undefined {
    const times = [...this.seen.values()].sort((a, b) => a - b);
    return times.length >= count ? times[count - 1] : undefined;
  }

  private async poll(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      const seenAt = now();
      const net = await this.findNetwork();
      if (!net) return;
      const { leases } = await this.lv.NetworkGetDHCPLeases({
        net,
        mac: null,
        need_results: 1,
        flags: 0,
      });
      for (const lease of leases) {
        if (lease.ipaddr.startsWith(`${this.subnet}.`) && !this.seen.has(lease.ipaddr)) {
          this.seen.set(lease.ipaddr, seenAt);
        }
      }
    } catch {
      // The network went away between two calls (destroy): nothing more to see.
    } finally {
      this.busy = false;
    }
  }

  private async findNetwork() {
    const { nets } = await this.lv.ConnectListAllNetworks({
      need_results: 1,
      flags: ACTIVE_NETWORKS,
    });
    if (this.network) return nets.find((net) => net.name === this.network);
    for (const net of nets.filter((n) => !this.checked.has(n.name))) {
      this.checked.add(net.name);
      const { xml } = await this.lv.NetworkGetXMLDesc({ net, flags: 0 });
      if (
        xml.includes(`address='${this.subnet}.1'`) ||
        xml.includes(`address="${this.subnet}.1"`)
      ) {
        this.network = net.name;
        return net;
      }
    }
    return undefined;
  }
}
