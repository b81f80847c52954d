import { randomBytes } from "node:crypto";
import {
  ErrorCode,
  Libvirt,
  LibvirtError,
  RemoteNonnullSecret,
  formatUuid,
  isNotFound,
  parseUuid,
} from "../../rpc";
import { ConnectListAllSecretsFlags, SecretUsageType } from "../../rpc/protocol/remote";
import { rejection } from "../support/promises";
import { connectTestbed, uniqueName } from "../support/testbed";

function cephSecretXml(usage: string, options: { private?: boolean } = {}): string {
  return `<secret ephemeral='no' private='${options.private ? "yes" : "no"}'>
  <description>virtwire test secret</description>
  <usage type='ceph'><name>${usage}</name></usage>
</secret>`;
}

describe("the secret procedures against the test bed daemon", () => {
  let lv: Libvirt;
  const defined: RemoteNonnullSecret[] = [];

  async function define(xml: string): Promise<RemoteNonnullSecret> {
    const { secret } = await lv.SecretDefineXML({ xml, flags: 0 });
    defined.push(secret);
    return secret;
  }

  beforeAll(async () => {
    lv = await connectTestbed();
  });

  afterAll(async () => {
    for (const secret of defined) await lv.SecretUndefine({ secret }).catch(() => undefined);
    await lv?.close();
  });

  describe("a Ceph secret", () => {
    const usage = uniqueName("ceph");
    let secret: RemoteNonnullSecret;

    it("is defined with its usage type and ID", async () => {
      secret = await define(cephSecretXml(usage));
      expect(secret).toMatchObject({ usageType: SecretUsageType.CEPH, usageID: usage });
      expect(secret.uuid).toHaveLength(16);
    });

    it("is found by UUID and by usage", async () => {
      await expect(lv.SecretLookupByUUID({ uuid: secret.uuid })).resolves.toEqual({ secret });
      await expect(
        lv.SecretLookupByUsage({ usageType: SecretUsageType.CEPH, usageID: usage }),
      ).resolves.toEqual({ secret });
    });

    it("describes itself in XML with its UUID and usage", async () => {
      const { xml } = await lv.SecretGetXMLDesc({ secret, flags: 0 });
      expect(xml).toContain(`<uuid>${formatUuid(secret.uuid)}</uuid>`);
      expect(xml).toContain(`<name>${usage}</name>`);
    });

    it("has no value until one is set", async () => {
      const error = await rejection(lv.SecretGetValue({ secret, flags: 0 }));
      expect(error).toMatchObject({ code: ErrorCode.NO_SECRET });
    });

    it("stores a binary value and returns it byte for byte", async () => {
      const value = Buffer.concat([Buffer.from([0, 0xff, 0x80]), randomBytes(37)]);
      await lv.SecretSetValue({ secret, value, flags: 0 });
      const { value: stored } = await lv.SecretGetValue({ secret, flags: 0 });
      expect(Buffer.compare(stored, value)).toBe(0);
    });

    it("is listed among the non-private secrets only", async () => {
      const list = (flags: number) => lv.ConnectListAllSecrets({ need_results: 1, flags });
      const nonPrivate = await list(ConnectListAllSecretsFlags.NO_PRIVATE);
      expect(nonPrivate.ret).toBe(nonPrivate.secrets.length);
      expect(nonPrivate.secrets).toContainEqual(secret);
      expect((await list(ConnectListAllSecretsFlags.PRIVATE)).secrets).not.toContainEqual(secret);
    });

    it("is undefined and then not found by UUID or usage", async () => {
      await lv.SecretUndefine({ secret });
      expect(isNotFound(await rejection(lv.SecretLookupByUUID({ uuid: secret.uuid })))).toBe(true);
      const byUsage = await rejection(
        lv.SecretLookupByUsage({ usageType: SecretUsageType.CEPH, usageID: usage }),
      );
      expect(byUsage).toMatchObject({ code: ErrorCode.NO_SECRET });
      expect((byUsage as LibvirtError).message).toContain(usage);
    });
  });

  it("keeps the value of a private secret to itself", async () => {
    const secret = await define(cephSecretXml(uniqueName("private"), { private: true }));
    await lv.SecretSetValue({ secret, value: Buffer.from("hidden"), flags: 0 });
    const error = await rejection(lv.SecretGetValue({ secret, flags: 0 }));
    expect(error).toMatchObject({ code: ErrorCode.INVALID_SECRET });
    expect((error as LibvirtError).message).toMatch(/private/);
    const { secrets } = await lv.ConnectListAllSecrets({
      need_results: 1,
      flags: ConnectListAllSecretsFlags.PRIVATE,
    });
    expect(secrets).toContainEqual(secret);
  });

  it("refuses a value over 65536 bytes before sending it", async () => {
    const secret = await define(cephSecretXml(uniqueName("big")));
    await expect(
      lv.SecretSetValue({ secret, value: Buffer.alloc(65537), flags: 0 }),
    ).rejects.toThrow(/exceeds its maximum of 65536/);
  });

  it("maps a missing secret to the typed not-found error", async () => {
    const uuid = parseUuid("00000000-0000-4000-8000-00000000beef");
    expect(isNotFound(await rejection(lv.SecretLookupByUUID({ uuid })))).toBe(true);
  });
});
