/**
 * Several hosts in one stack, through the real plugin: the default host is the test bed's daemon
 * over TLS with the CA, certificate and key from the stack config; `virtwire:hosts` adds the same
 * daemon over plain TCP, a private SASL daemon (another libvirtd altogether, with its user and
 * password in the host's entry) and that daemon with a wrong password. Pools choose their host by
 * name; the SASL daemon's pools exist only there. Runs inside the test bed's namespace.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Libvirt, isNoStoragePool, staticCredentials } from "../../rpc/internal";
import { connectTestbed } from "../support/testbed";
import { SaslDaemon } from "../support/sasl-daemon";
import { TLS, pkiFile } from "../support/tls";
import { scratchDir } from "../support/ssh";
import { VirtwireEngine } from "../support/virtwire-engine";
import { POOL, poolInputs, stepFailure } from "./auth-helpers";

let sasl: SaslDaemon;
let testbed: Libvirt;
let onSasl: Libvirt;
let stack: VirtwireEngine;
let scratch: { dir: string; cleanup(): void };

beforeAll(async () => {
  sasl = await SaslDaemon.start();
  scratch = scratchDir("multi-host");
  [testbed, onSasl] = await Promise.all([
    connectTestbed(),
    Libvirt.connect(sasl.unixUri, {
      credentials: [
        staticCredentials("test", { username: sasl.username, password: sasl.password }),
      ],
    }),
  ]);
  stack = await VirtwireEngine.start({
    config: {
      "virtwire:uri": `qemu+tls://${TLS.host}:${TLS.port}/system`,
      "virtwire:tlsCaCert": pkiFile("cacert"),
      "virtwire:tlsClientCert": pkiFile("clientcert"),
      "virtwire:tlsClientKey": pkiFile("clientkey"),
      "virtwire:hosts": JSON.stringify({
        tcp: { uri: `qemu+tcp://${TLS.host}:${TLS.tcpPort}/system` },
        sasl: { uri: sasl.unixUri, username: sasl.username, password: sasl.password },
        saslwrong: { uri: sasl.unixUri, username: sasl.username, password: "not-the-password" },
      }),
    },
    secretKeys: ["virtwire:tlsClientKey", "virtwire:hosts"],
  });
});

afterAll(async () => {
  await stack?.close();
  await Promise.all([testbed?.close(), onSasl?.close()]);
  await sasl?.dispose();
  scratch?.cleanup();
});

/** A target directory the daemon's user can create the pool in (the SASL daemon is vwsasl). */
function target(purpose: string, on: "testbed" | "sasl"): string {
  if (on === "sasl") return join(sasl.dir, "data", purpose);
  const dir = join(scratch.dir, purpose);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `new Pool(name, { host })` with its target in `dir` (default: its name) on the daemon `on`. */
function upPool(name: string, on: "testbed" | "sasl", host?: string, dir = name) {
  return stack.engine.up(POOL, name, poolInputs(name, target(dir, on), host));
}

async function exists(lv: Libvirt, name: string): Promise<boolean> {
  const found = await lv.StoragePoolLookupByName({ name }).catch((e: unknown) => e);
  if (isNoStoragePool(found)) return false;
  if (found instanceof Error) throw found;
  return true;
}

describe("resources on several hosts of one stack", () => {
  it("go to the host they name, each with its own credentials", async () => {
    const onDefault = await upPool("main", "testbed");
    const onTcp = await upPool("viatcp", "testbed", "tcp");
    const onSaslHost = await upPool("viasasl", "sasl", "sasl");
    const names = [onDefault, onTcp, onSaslHost].map((step) => step.outputs.name as string);
    expect([onDefault, onTcp, onSaslHost].map((step) => step.step)).toEqual([
      "create",
      "create",
      "create",
    ]);
    expect(await Promise.all(names.map((name) => exists(testbed, name)))).toEqual([
      true,
      true,
      false,
    ]);
    expect(await Promise.all(names.map((name) => exists(onSasl, name)))).toEqual([
      false,
      false,
      true,
    ]);
    const refreshed = await stack.engine.refresh();
    expect(refreshed).toHaveLength(3);
    // Each is still found on its own host. A refresh reads a pool's storage again, so its sizes
    // may have moved with the other tests' files on the same filesystem: no deletion is the check.
    expect(refreshed.filter((r) => r.deleted)).toEqual([]);
  });

  it("moves a resource to another host by replacing it", async () => {
    const first = await upPool("mover", "sasl", "sasl", "mover-a");
    const moved = await upPool("mover", "testbed", "tcp", "mover-b");
    expect(moved.step).toBe("replace");
    expect(await exists(onSasl, first.outputs.name as string)).toBe(false);
    expect(await exists(testbed, moved.outputs.name as string)).toBe(true);
  });

  it("fails only the resources of a host whose login fails, naming the host", async () => {
    const error = await stepFailure(upPool("denied", "sasl", "saslwrong"));
    expect(error.message).toMatch(
      /resource 'denied' has a problem: Connecting to libvirt on host saslwrong failed: cannot log in to libvirt: SASL SCRAM-SHA-256 authentication failed/,
    );
    expect(error.message).not.toContain("not-the-password");
    expect(error.message).not.toContain(sasl.password);
    const again = await upPool("afterdenied", "sasl", "sasl");
    expect(again.step).toBe("create");
  });

  it("refuses a host that is not configured, listing the known ones", async () => {
    const error = await stepFailure(upPool("nowhere", "testbed", "kvm9"));
    expect(error.message).toContain(
      `host "kvm9" is not configured: known hosts are tcp, sasl, saslwrong; add it with pulumi config set --path 'virtwire:hosts.kvm9.uri' <libvirt URI>`,
    );
  });

  it("removes every pool from its own host on destroy", async () => {
    const names = stack.engine.state.resources
      .filter((entry) => entry.type === POOL)
      .map((entry) => ({ name: entry.outputs.name as string, host: entry.inputs.host }));
    expect(names.length).toBeGreaterThanOrEqual(5);
    await stack.engine.destroy();
    for (const { name, host } of names) {
      expect(await exists(host === "sasl" ? onSasl : testbed, name)).toBe(false);
    }
  });
});
