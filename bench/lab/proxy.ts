/**
 * A unix-socket relay between a measured tool and the test bed's libvirtd, in the bench harness's
 * process: the tool connects to `qemu:///system?socket=<listen path>`, the relay copies bytes both
 * ways unchanged and reads the packet headers as they pass (no strace, no change to either tool):
 *
 *   4 bytes length (header included) | program | version | procedure | type | serial | status
 *
 * A CALL (type 0) from the client is matched with the REPLY (type 1) of the same serial and
 * program, which gives each call's procedure, when it was sent and its round trip as the client
 * sees it (plus the relay's copy, tens of microseconds). Keepalive (program 0x6b656570) and stream
 * packets are counted apart. Times are epoch milliseconds, like the trace and the harness.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { performance } from "node:perf_hooks";

export const KEEPALIVE_PROGRAM = 0x6b656570;
const CALL = 0;
const REPLY = 1;
const STREAM = 3;

export const now = () => performance.timeOrigin + performance.now();

export interface CallRecord {
  program: number;
  procedure: number;
  sentAt: number;
  /** Milliseconds from the call's last byte leaving the client to the reply's arrival. */
  roundTrip: number;
  error: boolean;
}

export interface ConnectionRecord {
  openedAt: number;
  closedAt?: number;
  calls: CallRecord[];
  keepalives: number;
  streamPackets: number;
  streamBytes: number;
}

/** Cuts a byte stream into libvirt packets and hands each header to `onPacket`. */
class PacketReader {
  private pending: Buffer[] = [];
  private length = 0;

  constructor(private readonly onPacket: (header: Buffer, length: number) => void) {}

  push(chunk: Buffer): void {
    this.pending.push(chunk);
    this.length += chunk.length;
    while (this.length >= 28) {
      const head = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      this.pending = [head];
      const size = head.readUInt32BE(0);
      if (size < 28 || this.length < size) return;
      this.onPacket(head.subarray(0, 28), size);
      const rest = head.subarray(size);
      this.pending = rest.length > 0 ? [rest] : [];
      this.length -= size;
    }
  }
}

export class LibvirtRelay {
  private server?: net.Server;
  private records: ConnectionRecord[] = [];

  constructor(
    readonly listenPath: string,
    private readonly daemonPath: string,
  ) {}

  async start(): Promise<void> {
    fs.rmSync(this.listenPath, { force: true });
    this.server = net.createServer((client) => this.relay(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once("error", reject);
      this.server!.listen(this.listenPath, resolve);
    });
  }

  /** What was seen since the last take(), and a fresh start. */
  take(): ConnectionRecord[] {
    const taken = this.records;
    this.records = [];
    return taken;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    fs.rmSync(this.listenPath, { force: true });
  }

  private relay(client: net.Socket): void {
    const record: ConnectionRecord = {
      openedAt: now(),
      calls: [],
      keepalives: 0,
      streamPackets: 0,
      streamBytes: 0,
    };
    this.records.push(record);
    const daemon = net.connect(this.daemonPath);
    const sent = new Map<string, { sentAt: number; procedure: number; program: number }>();
    const key = (header: Buffer) => `${header.readUInt32BE(4)}:${header.readUInt32BE(20)}`;
    const count = (header: Buffer, size: number): boolean => {
      if (header.readUInt32BE(4) === KEEPALIVE_PROGRAM) {
        record.keepalives++;
        return true;
      }
      if (header.readUInt32BE(16) === STREAM) {
        record.streamPackets++;
        record.streamBytes += size - 28;
        return true;
      }
      return false;
    };
    const fromClient = new PacketReader((header, size) => {
      if (count(header, size) || header.readUInt32BE(16) !== CALL) return;
      sent.set(key(header), {
        sentAt: now(),
        program: header.readUInt32BE(4),
        procedure: header.readUInt32BE(12),
      });
    });
    const fromDaemon = new PacketReader((header, size) => {
      if (count(header, size) || header.readUInt32BE(16) !== REPLY) return;
      const call = sent.get(key(header));
      if (!call) return;
      sent.delete(key(header));
      record.calls.push({
        ...call,
        roundTrip: now() - call.sentAt,
        error: header.readUInt32BE(24) !== 0,
      });
    });
    client.on("data", (chunk) => {
      daemon.write(chunk);
      fromClient.push(chunk);
    });
    daemon.on("data", (chunk) => {
      client.write(chunk);
      fromDaemon.push(chunk);
    });
    const close = () => {
      record.closedAt ??= now();
      client.destroy();
      daemon.destroy();
    };
    client.on("close", close).on("error", close);
    daemon.on("close", close).on("error", close);
  }
}
