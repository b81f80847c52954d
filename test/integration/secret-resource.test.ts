/**
 * The Secret resource against the test bed's daemon, through the real plugin and the engine's step
 * model: a value secret from program to libvirt (never in the state in clear, never printed), read
 * back without diffs, changed in place, noticed when changed outside Pulumi (not for a private
 * secret, whose value libvirt does not give out), usage changes replacing it, a usage taken by
 * somebody else's secret refused at preview, a leftover of this resource removed, `get` by UUID or
 * usage id.
 */
import { Libvirt, formatUuid, parseUuid } from "../../rpc";
import { markedUuid, markOf } from "../../resources/kit/owner";
import { isSecret, reveal, secret } from "../support/pulumi-wire";
import { VirtwireEngine, resourceInputs, virtwireType } from "../support/virtwire-engine";
import { connectTestbed, uniqueName } from "../support/testbed";

const PASSPHRASE = `correct horse ${uniqueName("battery")}`;
let lv: Libvirt;
let virtwire: VirtwireEngine;
const foreign: string[] = [];

beforeAll(async () => {
  lv = await connectTestbed();
  virtwire = await VirtwireEngine.start();
});

afterEach(async () => {
  await virtwire.engine.destroy().catch(() => undefined);
  virtwire.reset();
});

afterAll(async () => {
  await virtwire?.close();
  for (const uuid of foreign) {
    await bySecretUuid(uuid)
      .then((found) => lv.SecretUndefine({ secret: found }))
      .catch(() => undefined);
  }
  await lv?.close();
});

async function bySecretUuid(uuid: string) {
  return (await lv.SecretLookupByUUID({ uuid: parseUuid(uuid) })).secret;
}

async function storedValue(uuid: string): Promise<string> {
  const { value } = await lv.SecretGetValue({ secret: await bySecretUuid(uuid), flags: 0 });
  return value.toString("utf8");
}

/** Expects the passphrase nowhere in clear: not in the state, not in what the plugin printed. */
async function expectNoLeak(): Promise<void> {
  await virtwire.plugin.quiet();
  expect(virtwire.engine.stateJson()).not.toContain(PASSPHRASE);
  expect(virtwire.plugin.output).not.toContain(PASSPHRASE);
}

const volumeSecret = (usageId: string, more: Record<string, unknown> = {}) => ({
  usageType: "volume",
  usageId,
  description: "virtwire test secret",
  value: secret(PASSPHRASE),
  ...more,
});

describe("a Secret", () => {
  it("is defined with its value, read back without a change, and keeps the value secret", async () => {
    const usageId = `/var/lib/virtwire-test/${uniqueName("secret")}.img`;
    const created = await virtwire.up("Secret", "pass", volumeSecret(usageId));
    expect(created.step).toBe("create");
    expect(created.outputs).toMatchObject({ usageType: "volume", usageId, private: false });
    expect(created.id).toBe(created.outputs.uuid);
    await expect(storedValue(created.id)).resolves.toBe(PASSPHRASE);
    const entry = virtwire.engine.resource(virtwire.urn("Secret", "pass"));
    expect(isSecret(entry.outputs.value)).toBe(true);
    expect(await virtwire.refresh("pass")).toBe("same");
    expect((await virtwire.up("Secret", "pass", volumeSecret(usageId))).step).toBe("same");
    await expectNoLeak();
  });

  it("changes its value and description in place, and notices a value changed outside Pulumi", async () => {
    const usageId = uniqueName("ceph");
    const args = { ...volumeSecret(usageId), usageType: "ceph" };
    const created = await virtwire.up("Secret", "key", args);
    const changed = { ...args, value: secret(`${PASSPHRASE}!`), description: "other" };
    const updated = await virtwire.up("Secret", "key", changed);
    expect(updated).toMatchObject({ step: "update", id: created.id });
    await expect(storedValue(created.id)).resolves.toBe(`${PASSPHRASE}!`);

    const value = Buffer.from("set by hand");
    await lv.SecretSetValue({ secret: await bySecretUuid(created.id), value, flags: 0 });
    expect(await virtwire.refresh("key")).toBe("changed");
    expect((await virtwire.up("Secret", "key", changed)).step).toBe("update");
    await expect(storedValue(created.id)).resolves.toBe(`${PASSPHRASE}!`);
    await expectNoLeak();
  });

  it("when private, cannot be read back: its value is not compared", async () => {
    const usageId = uniqueName("tls");
    const args = { ...volumeSecret(usageId), usageType: "tls", private: true };
    const created = await virtwire.up("Secret", "priv", args);
    await expect(storedValue(created.id)).rejects.toThrow();
    expect(await virtwire.refresh("priv")).toBe("same");
    expect(virtwire.outputs("priv").value).toBe(PASSPHRASE);
    expect((await virtwire.up("Secret", "priv", args)).step).toBe("same");
    // Becoming non-private replaces it, the old one first: one secret per usage.
    const replaced = await virtwire.up("Secret", "priv", { ...args, private: false });
    expect(replaced).toMatchObject({ step: "replace", diff: { deleteBeforeReplace: true } });
    await expect(storedValue(replaced.id)).resolves.toBe(PASSPHRASE);
    await expect(bySecretUuid(created.id)).rejects.toThrow();
  });

  it("is replaced when its usage changes", async () => {
    const created = await virtwire.up("Secret", "moved", volumeSecret("/srv/a.img"));
    const moved = await virtwire.up("Secret", "moved", volumeSecret("/srv/b.img"));
    expect(moved.step).toBe("replace");
    expect(moved.id).not.toBe(created.id);
    await expect(bySecretUuid(created.id)).rejects.toThrow();
  });

  it("refuses at preview a usage that somebody else's secret holds, touching nothing", async () => {
    const usageId = uniqueName("iscsi");
    const xml = `<secret ephemeral='no' private='no'><usage type='iscsi'><target>${usageId}</target></usage></secret>`;
    const { secret: other } = await lv.SecretDefineXML({ xml, flags: 0 });
    foreign.push(formatUuid(other.uuid));
    const args = { ...volumeSecret(usageId), usageType: "iscsi" };
    const error = await virtwire.up("Secret", "taken", args).then(
      () => new Error("the up passed"),
      (e: Error) => e,
    );
    expect(error.message).toContain(`a secret for iscsi "${usageId}" already exists`);
    expect(error.message).toContain(formatUuid(other.uuid));
    await expect(bySecretUuid(formatUuid(other.uuid))).resolves.toEqual(other);
  });

  it("removes what a failed earlier create of the same resource left under its usage", async () => {
    const usageId = uniqueName("vtpm");
    const urn = virtwire.urn("Secret", "again");
    const uuid = markedUuid(markOf(urn));
    const xml = `<secret ephemeral='no' private='yes'><uuid>${uuid}</uuid><usage type='vtpm'><name>${usageId}</name></usage></secret>`;
    await lv.SecretDefineXML({ xml, flags: 0 });
    foreign.push(uuid);
    const created = await virtwire.up("Secret", "again", {
      ...volumeSecret(usageId),
      usageType: "vtpm",
    });
    expect(created.step).toBe("create");
    expect(created.id).not.toBe(uuid);
    await expect(bySecretUuid(uuid)).rejects.toThrow();
  });

  it("is found by get by UUID or usage id, with its value", async () => {
    const usageId = uniqueName("got");
    const created = await virtwire.up("Secret", "orig", {
      ...volumeSecret(usageId),
      usageType: "ceph",
    });
    for (const id of [created.id, usageId]) {
      const name = `got-${id.length}`;
      const props = resourceInputs("Secret", name, {}, virtwire.urn("Secret", name));
      const entry = await virtwire.engine.get(virtwireType("Secret"), name, id, props);
      expect(entry.id).toBe(created.id);
      // Secret in the state through the sdk/ class's additionalSecretOutputs (which this engine
      // model's get does not apply) or the plugin (provider/plugin/secrets.ts).
      expect(reveal(entry.outputs)).toMatchObject({
        usageType: "ceph",
        usageId,
        value: PASSPHRASE,
      });
    }
    await virtwire.plugin.quiet();
    expect(virtwire.plugin.output).not.toContain(PASSPHRASE);
  });

  it("is gone after destroy, and a secret that is gone already is no error", async () => {
    const created = await virtwire.up("Secret", "bye", { value: secret(PASSPHRASE) });
    expect(created.outputs.usageType).toBe("none");
    await lv.SecretUndefine({ secret: await bySecretUuid(created.id) });
    expect(await virtwire.refresh("bye")).toBe("deleted");
    const again = await virtwire.up("Secret", "bye", { value: secret(PASSPHRASE) });
    await virtwire.destroy("bye");
    await expect(bySecretUuid(again.id)).rejects.toThrow();
  });
});
