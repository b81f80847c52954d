/**
 * An upload that sends past the length its call declared, against a private libvirtd
 * (test/support/private-daemon.ts: a session daemon of the host's libvirt, 9.0 on the test bed)
 * and never the shared ones: libvirt 11.3 crashes on it (a GPF in free() under
 * virNetMessageFree), where 9.0 fails the stream with "No space left on device".
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  Libvirt,
  LibvirtError,
  RemoteProcedures,
  StoragePoolCreateFlags,
  openStream,
} from "../../rpc/internal";
import { PrivateDaemon } from "../support/private-daemon";
import { dirPoolXml, uniqueName } from "../support/testbed";

const MiB = 1024 * 1024;

describe("a volume upload past its declared length, on a private libvirtd", () => {
  let daemon: PrivateDaemon;
  let lv: Libvirt;

  beforeAll(async () => {
    daemon = await PrivateDaemon.start();
    lv = await Libvirt.connect(daemon.uri);
  });

  afterAll(async () => {
    await lv?.close();
    await daemon?.dispose();
  });

  it("fails the stream with the daemon's error and leaves the connection usable", async () => {
    const { lib_ver } = await lv.ConnectGetLibVersion();
    // The pool lies in the daemon's own temp dir, which its unprivileged user owns.
    const { pool } = await lv.StoragePoolCreateXML({
      xml: dirPoolXml(uniqueName("overrun"), join(daemon.dir, "pool")),
      flags: StoragePoolCreateFlags.WITH_BUILD,
    });
    const xml =
      `<volume><name>short.raw</name><capacity unit='bytes'>${4 * MiB}</capacity>` +
      `<allocation unit='bytes'>0</allocation><target><format type='raw'/></target></volume>`;
    const { vol } = await lv.StorageVolCreateXML({ pool, xml, flags: 0 });

    // uploadVolume never sends more than `length`; the bare stream does as it is told.
    const stream = await openStream(
      lv.connection,
      RemoteProcedures.StorageVolUpload,
      { vol, offset: 0n, length: BigInt(MiB), flags: 0 },
      { direction: "send" },
    );
    const error = await (async () => {
      await stream.send(randomBytes(4 * MiB));
      await stream.finish();
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LibvirtError);
    const version = [lib_ver / 1_000_000n, (lib_ver / 1000n) % 1000n, lib_ver % 1000n].join(".");
    console.log(
      `libvirt ${version}: error for an upload past its length: ${(error as Error).message}`,
    );
    expect(stream.closed).toBe(true);
    await expect(lv.ConnectGetLibVersion()).resolves.toEqual({ lib_ver });
  });
});
