import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProtocolError } from "../rpc/errors";
import { MessageStatus, MessageType, STREAM_CHUNK_SIZE } from "../rpc/protocol/header";
import { RemoteProcedures } from "../rpc/protocol/remote";
import { decode } from "../rpc/xdr";
import { FakeDaemon, fakeConnection } from "../test/support/fake-daemon";
import { packet, streamPacket } from "../test/support/packets";
import { downloadVolume } from "./volume";

const vol = { pool: "default", name: "disk.raw", key: "/images/disk.raw" };
const DOWNLOAD = RemoteProcedures.StorageVolDownload.number;
const MiB = 1024 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "vwtest-transfer-limits-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Answers the download CALL; resolves with its serial and the length it asked for. */
async function acceptDownload(daemon: FakeDaemon) {
  const [call] = await daemon.nextCalls(1);
  expect(call!.header).toMatchObject({ type: MessageType.CALL, procedure: DOWNLOAD });
  daemon.send(packet({ procedure: DOWNLOAD, serial: call!.header.serial }));
  const { length } = decode(RemoteProcedures.StorageVolDownload.args, call!.payload);
  return { serial: call!.header.serial, length };
}

/** Sends `total` random bytes as stream packets of libvirt's chunk size. */
function sendData(daemon: FakeDaemon, serial: number, total: number): Buffer {
  const data = randomBytes(total);
  for (let offset = 0; offset < total; offset += STREAM_CHUNK_SIZE) {
    const chunk = data.subarray(offset, offset + STREAM_CHUNK_SIZE);
    daemon.send(streamPacket(DOWNLOAD, serial, {}, chunk));
  }
  return data;
}

describe("downloadVolume with a length", () => {
  it("stops at it: a daemon that sends more fails the download, which aborts and removes the file", async () => {
    const { connection, daemon } = fakeConnection();
    const path = join(dir, "too-much.raw");
    const downloading = downloadVolume({ connection }, vol, path, { length: MiB });
    const { serial, length } = await acceptDownload(daemon);
    expect(length).toBe(BigInt(MiB));
    sendData(daemon, serial, 5 * MiB); // a daemon that keeps streaming
    const [abort] = await daemon.nextCalls(1);
    expect(abort!.header).toMatchObject({
      type: MessageType.STREAM,
      status: MessageStatus.ERROR,
      serial,
    });
    daemon.send(streamPacket(DOWNLOAD, serial, { status: MessageStatus.OK }));
    const error = await downloading.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as Error).message).toMatch(
      /^the libvirt daemon sent more than the 1048576 bytes asked for on the StorageVolDownload stream \(\d+ so far\)/,
    );
    await expect(stat(path)).rejects.toMatchObject({ code: "ENOENT" });
    expect(connection.closed).toBe(false);
  });

  it("gets exactly that many bytes when the daemon keeps to it", async () => {
    const { connection, daemon } = fakeConnection();
    const path = join(dir, "exact.raw");
    const downloading = downloadVolume({ connection }, vol, path, { length: MiB });
    const { serial } = await acceptDownload(daemon);
    const data = sendData(daemon, serial, MiB);
    daemon.send(streamPacket(DOWNLOAD, serial, {})); // end of data
    const [finish] = await daemon.nextCalls(1);
    expect(finish!.header).toMatchObject({ status: MessageStatus.OK, serial });
    daemon.send(streamPacket(DOWNLOAD, serial, { status: MessageStatus.OK }));
    await expect(downloading).resolves.toMatchObject({ bytes: MiB, dataBytes: MiB });
    expect((await readFile(path)).equals(data)).toBe(true);
  });
});
