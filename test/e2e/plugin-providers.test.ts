/**
 * Explicit providers through the real Pulumi CLI: one stack, two `virtwire.Provider`s for two
 * hosts — a private SASL libvirtd over its unix socket (sasl-daemon.ts), and the test bed's daemon
 * over SSH through a private sshd (private-sshd.ts) with a pinned host key — and a resource on
 * each. Then the credentials rotate on the live stack: the SASL password changes in the daemon's
 * database and the sshd gets a new host key; the program gives the providers the new password and
 * pin. The providers are updated, never replaced, and so is nothing else; refresh and destroy,
 * which act with the new settings, succeed. After one more rotation, a refresh without the program
 * fails saying how to go on, and `destroy --run-program` removes everything with the new settings.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { Libvirt, staticCredentials } from "../../rpc";
import { REPO_ROOT } from "../support/program-dir";
import { PrivateSshd } from "../support/private-sshd";
import { SaslDaemon } from "../support/sasl-daemon";
import { SSH, authorizeKey, makeClientKey } from "../support/ssh";
import { connectTestbed, randomSubnet, uniqueName } from "../support/testbed";
import { PulumiProject } from "./pulumi-project";

const FIXTURE = path.join(REPO_ROOT, "test/fixtures/plugin-program");
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import * as virtwire from "virtwire";

const config = new pulumi.Config("test");
const kvm1 = new virtwire.Provider("kvm1", {
  uri: config.require("saslUri"),
  username: config.require("saslUser"),
  password: config.requireSecret("saslPassword"),
});
const kvm2 = new virtwire.Provider("kvm2", {
  uri: config.require("sshUri"),
  sshPrivateKey: config.requireSecret("sshKey"),
  sshHostKeyFingerprint: config.require("sshPin"),
});
new virtwire.Pool("pool", { name: config.require("pool"), type: "dir", targetPath: config.require("poolPath") }, { provider: kvm1 });
new virtwire.Network("net", {
  name: config.require("network"),
  mode: "isolated",
  addresses: [{ address: config.require("address"), prefix: 24 }],
}, { provider: kvm2 });
`;

const names = { pool: uniqueName("providers"), network: uniqueName("providers") };

describe("explicit providers for two hosts, with credentials rotated on a live stack", () => {
  let project: PulumiProject;
  let sasl: SaslDaemon;
  let sshd: PrivateSshd;
  let unauthorize: () => void;
  let testbed: Libvirt;
  let destroyed = false;
  let saslPassword = "";
  const timings: string[] = [];
  const timed = async (what: string, args: string[]) => {
    const result = await project.pulumi(...args);
    timings.push(`${what}: ${result.seconds.toFixed(1)} s`);
    return result;
  };

  /** What the stack holds on each host, as libvirt lists it. */
  async function onHosts(password: string): Promise<{ pools: string[]; networks: string[] }> {
    const lv = await Libvirt.connect(sasl.unixUri, {
      credentials: [staticCredentials("test", { username: sasl.username, password })],
    });
    try {
      const { pools } = await lv.ConnectListAllStoragePools({ need_results: 1, flags: 0 });
      const { nets } = await testbed.ConnectListAllNetworks({ need_results: 1, flags: 0 });
      return {
        pools: pools.map((p) => p.name).filter((name) => name === names.pool),
        networks: nets.map((n) => n.name).filter((name) => name === names.network),
      };
    } finally {
      await lv.close();
    }
  }

  /** A new SASL password in the daemon's database and a new host key in the sshd; the program's too. */
  async function rotate(): Promise<string> {
    const password = randomBytes(18).toString("base64url");
    execFileSync(
      "saslpasswd2",
      ["-p", "-a", "libvirt", "-f", path.join(sasl.dir, "sasl2/passwd.db"), sasl.username],
      { input: password, stdio: ["pipe", "ignore", "pipe"] },
    );
    await sshd.rotateHostKey();
    await project.setConfig("test:saslPassword", password, { secret: true });
    await project.setConfig("test:sshPin", sshd.fingerprint);
    return password;
  }

  beforeAll(async () => {
    testbed = await connectTestbed();
    sasl = await SaslDaemon.start();
    sshd = await PrivateSshd.start();
    const key = makeClientKey();
    unauthorize = authorizeKey(SSH.user, key);
    project = await PulumiProject.create(FIXTURE, "providers", { plugin: true });
    fs.writeFileSync(path.join(project.dir, "index.ts"), PROGRAM);
    const settings: Record<string, string> = {
      "test:saslUri": sasl.unixUri,
      "test:saslUser": sasl.username,
      "test:sshUri": `qemu+ssh://${SSH.user}@127.0.0.1:${sshd.port}/system?sshauth=privkey`,
      "test:sshPin": sshd.fingerprint,
      "test:pool": names.pool,
      "test:poolPath": path.join(sasl.dir, "pool"),
      "test:network": names.network,
      "test:address": `${randomSubnet()}.1`,
    };
    for (const [name, value] of Object.entries(settings)) await project.setConfig(name, value);
    saslPassword = sasl.password;
    await project.setConfig("test:saslPassword", sasl.password, { secret: true });
    await project.setConfig("test:sshKey", key.privateKey, { secret: true });
  });

  afterAll(async () => {
    if (project && !destroyed) {
      await project.pulumi("destroy", "--yes", "--skip-preview").catch(() => undefined);
    }
    await testbed
      ?.NetworkLookupByName({ name: names.network })
      .then(async ({ net }) => {
        await testbed.NetworkDestroy({ net }).catch(() => undefined);
        await testbed.NetworkUndefine({ net }).catch(() => undefined);
      })
      .catch(() => undefined);
    await testbed?.close();
    unauthorize?.();
    await sshd?.remove();
    await sasl?.dispose();
    project?.remove();
    console.log(`explicit providers, timings:\n  ${timings.join("\n  ")}`);
  });

  it("makes a pool on the SASL host and a network on the SSH host in one stack", async () => {
    await timed("up (two providers)", ["up", "--yes", "--skip-preview"]);
    expect(await onHosts(sasl.password)).toEqual({
      pools: [names.pool],
      networks: [names.network],
    });
    const state = await project.exportState();
    expect(state).not.toContain(sasl.password);
    expect(state).toContain('"type": "pulumi:providers:virtwire"');
  });

  it("takes a new SASL password and a new host key pin without replacing anything", async () => {
    const password = await rotate();
    expect(await project.plannedChanges()).toEqual(["update kvm1", "update kvm2"]);
    await timed("up (rotated)", ["up", "--yes", "--skip-preview"]);
    await timed("refresh (new settings)", ["refresh", "--yes", "--skip-preview"]);
    await project.pulumi("preview", "--expect-no-changes");
    const state = await project.exportState();
    expect(state).not.toContain(password);
    // The old password no longer logs in: every step above used the new one.
    await expect(onHosts(sasl.password)).rejects.toThrow();
    saslPassword = password;
  });

  it("after another rotation, destroy with the program's settings removes both; nothing is left", async () => {
    saslPassword = await rotate();
    // Without the program, refresh has only the settings in the state, and says how to go on.
    await expect(project.pulumi("refresh", "--yes", "--skip-preview")).rejects.toThrow(
      /cannot log in to libvirt: .*pulumi destroy --run-program/,
    );
    await timed("destroy --run-program", ["destroy", "--run-program", "--yes", "--skip-preview"]);
    destroyed = true;
    expect(await onHosts(saslPassword)).toEqual({ pools: [], networks: [] });
  });
});
