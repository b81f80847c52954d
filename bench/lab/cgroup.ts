/**
 * CPU time of a command and every process it starts, from a cgroup made for the one run: the
 * command is started by `sh -c 'echo $$ > <cgroup>/cgroup.procs; exec "$@"'`, so it and all its
 * descendants (language host, programs, plugins, terraform's provider) are in the group from
 * their first instruction, whether or not their parents wait for them. cgroup v2 (`cpu.stat`,
 * usage_usec/user_usec/system_usec) where it is mounted with a writable hierarchy
 * (/sys/fs/cgroup or the hybrid /sys/fs/cgroup/unified), else cgroup v1's `cpuacct`
 * (cpuacct.usage, cpuacct.usage_user/_sys in nanoseconds). The daemon's own CPU (libvirtd, qemu)
 * is not in it: it belongs to the daemon's service, and is the same work for either tool.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface CpuUsage {
  /** CPU seconds, user + system. */
  total: number;
  user: number;
  system: number;
}

const CANDIDATES: { root: string; version: 1 | 2 }[] = [
  { root: "/sys/fs/cgroup", version: 2 },
  { root: "/sys/fs/cgroup/unified", version: 2 },
  { root: "/sys/fs/cgroup/cpuacct", version: 1 },
];

export class RunCgroups {
  private constructor(
    private readonly base: string,
    readonly version: 1 | 2,
  ) {}

  /** A parent group `<root>/<name>` for this benchmark's runs, in the first hierarchy that works. */
  static create(name: string): RunCgroups {
    for (const { root, version } of CANDIDATES) {
      const probe = version === 2 ? "cgroup.controllers" : "cpuacct.usage";
      if (!fs.existsSync(path.join(root, probe))) continue;
      const base = path.join(root, name);
      try {
        fs.mkdirSync(base);
      } catch {
        continue;
      }
      if (fs.existsSync(path.join(base, version === 2 ? "cpu.stat" : "cpuacct.usage"))) {
        return new RunCgroups(base, version);
      }
      fs.rmdirSync(base);
    }
    throw new Error("no writable cgroup hierarchy with CPU accounting (cgroup v2 or v1 cpuacct)");
  }

  get description(): string {
    return this.version === 2
      ? `cgroup v2 ${this.base}, cpu.stat`
      : `cgroup v1 ${this.base}, cpuacct`;
  }

  /** A new, empty group for one run; its procs file is where the run's first process goes. */
  group(run: string): { dir: string; procs: string } {
    const dir = path.join(this.base, run);
    fs.mkdirSync(dir);
    return { dir, procs: path.join(dir, "cgroup.procs") };
  }

  usage(dir: string): CpuUsage {
    if (this.version === 2) {
      const stat = Object.fromEntries(
        fs
          .readFileSync(path.join(dir, "cpu.stat"), "utf8")
          .trim()
          .split("\n")
          .map((line) => line.split(" ") as [string, string]),
      );
      const us = (key: string) => Number(stat[key] ?? 0) / 1e6;
      return { total: us("usage_usec"), user: us("user_usec"), system: us("system_usec") };
    }
    const ns = (file: string) => Number(fs.readFileSync(path.join(dir, file), "utf8")) / 1e9;
    return {
      total: ns("cpuacct.usage"),
      user: ns("cpuacct.usage_user"),
      system: ns("cpuacct.usage_sys"),
    };
  }

  /** SIGKILL to every process in a run's group: the run's own processes, nothing else. */
  kill(dir: string): void {
    let procs = "";
    try {
      procs = fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").trim();
    } catch {
      return; // the group is gone already
    }
    for (const pid of procs.split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  /** Removes a run's group once its processes are gone (a group with processes cannot go). */
  remove(dir: string): void {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        fs.rmdirSync(dir);
        return;
      } catch {
        this.kill(dir); // stragglers of our own run
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
  }

  removeAll(): void {
    if (!fs.existsSync(this.base)) return;
    for (const entry of fs.readdirSync(this.base, { withFileTypes: true })) {
      if (entry.isDirectory()) this.remove(path.join(this.base, entry.name));
    }
    try {
      fs.rmdirSync(this.base);
    } catch {
      // left for the next run's sweep; harmless and empty
    }
  }
}
