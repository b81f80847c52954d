import { MessageStatus, MessageType } from "../protocol/header";
import { RemoteProcedures } from "../protocol/remote";
import { decodeStreamHole, encodeStreamHole } from "../protocol/stream-hole";
import { FakeDaemon, fakeConnection } from "../../test/support/fake-daemon";
import { packet, streamPacket } from "../../test/support/packets";
import type { Connection } from "./connection";
import { openStream } from "./open-stream";
import type { StreamChunk } from "./stream";

const UPLOAD = RemoteProcedures.StorageVolUpload;
const DOWNLOAD = RemoteProcedures.StorageVolDownload;
const vol = { pool: "default", name: "disk.raw", key: "/var/lib/libvirt/images/disk.raw" };
const { OK, ERROR, CONTINUE } = MessageStatus;

/** Opens a sparse stream call against the fake daemon and answers its CALL. */
async function open(connection: Connection, daemon: FakeDaemon, direction: "send" | "receive") {
  const procedure = direction === "send" ? UPLOAD : DOWNLOAD;
  const args = { vol, offset: 0n, length: 0n, flags: 1 };
  const opening = openStream(connection, procedure, args, { direction, sparse: true });
  const [call] = await daemon.nextCalls(1);
  const { serial } = call!.header;
  daemon.send(packet({ procedure: procedure.number, serial }));
  return { stream: await opening, serial };
}

describe("Stream.sendAll (virStreamSparseSendAll)", () => {
  it("sends data as STREAM packets and holes as STREAM_HOLE packets, then the finish", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "send");
    const extents: StreamChunk[] = [
      { type: "data", data: Buffer.from("head") },
      { type: "hole", length: 2 ** 33 },
      { type: "data", data: Buffer.from("tail") },
    ];
    const sending = stream.sendAll(extents);
    const packets = await daemon.nextCalls(4);
    expect(packets.map(({ header }) => [MessageType[header.type], header.status])).toEqual([
      ["STREAM", CONTINUE],
      ["STREAM_HOLE", CONTINUE],
      ["STREAM", CONTINUE],
      ["STREAM", OK],
    ]);
    expect(decodeStreamHole(packets[1]!.payload)).toBe(2 ** 33);
    daemon.send(streamPacket(UPLOAD.number, serial, { status: OK }));
    await expect(sending).resolves.toBeUndefined();
  });

  it("aborts the stream when its source fails, and rejects with the source's error", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "send");
    async function* broken(): AsyncGenerator<StreamChunk> {
      yield { type: "data", data: Buffer.from("a") };
      throw new Error("the disk went away");
    }
    const sending = stream.sendAll(broken());
    const [data, abort] = await daemon.nextCalls(2);
    expect(data!.header.status).toBe(CONTINUE);
    expect(abort!.header).toMatchObject({ type: MessageType.STREAM, status: ERROR });
    expect(abort!.payload).toHaveLength(0);
    daemon.send(streamPacket(UPLOAD.number, serial, { status: OK }));
    await expect(sending).rejects.toThrow("the disk went away");
  });
});

describe("Stream.receiveAll (virStreamSparseRecvAll)", () => {
  it("hands data and holes to the sink in order until the end of data, then finishes", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive");
    const seen: (string | number)[] = [];
    const receiving = stream.receiveAll(async (extents) => {
      for (const e of extents) seen.push(e.type === "data" ? e.data.toString() : e.length);
    });
    daemon.send(streamPacket(DOWNLOAD.number, serial, {}, Buffer.from("head")));
    const hole = encodeStreamHole(4096);
    daemon.send(streamPacket(DOWNLOAD.number, serial, { type: MessageType.STREAM_HOLE }, hole));
    daemon.send(streamPacket(DOWNLOAD.number, serial, {}, Buffer.from("tail")));
    daemon.send(streamPacket(DOWNLOAD.number, serial, {}));
    const [finish] = await daemon.nextCalls(1);
    expect(finish!.header).toMatchObject({ type: MessageType.STREAM, status: OK, serial });
    daemon.send(streamPacket(DOWNLOAD.number, serial, { status: OK }));
    await receiving;
    expect(seen).toEqual(["head", 4096, "tail"]);
  });

  it("aborts when the signal fires, and rejects with its reason", async () => {
    const { connection, daemon } = fakeConnection();
    const { stream, serial } = await open(connection, daemon, "receive");
    const controller = new AbortController();
    const receiving = stream.receiveAll(async () => undefined, { signal: controller.signal });
    controller.abort(new Error("enough"));
    const [abort] = await daemon.nextCalls(1);
    expect(abort!.header).toMatchObject({ type: MessageType.STREAM, status: ERROR, serial });
    daemon.send(streamPacket(DOWNLOAD.number, serial, { status: OK }));
    await expect(receiving).rejects.toThrow("enough");
  });
});
