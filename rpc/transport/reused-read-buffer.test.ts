import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { Server, Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectReusingReadBuffer } from "./reused-read-buffer";

let dir: string;
let server: Server;
let peer: Promise<Socket>;
const sockets: Socket[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "vwtest-reads-"));
  server = createServer();
  peer = once(server, "connection").then(([socket]) => socket as Socket);
  server.listen(join(dir, "sock"));
  await once(server, "listening");
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function connected(): Promise<{ client: Socket; server: Socket }> {
  const client = connectReusingReadBuffer({ path: join(dir, "sock") });
  sockets.push(client);
  await once(client, "connect");
  const server = await peer;
  sockets.push(server);
  return { client, server };
}

function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return once(socket, "end").then(() => Buffer.concat(chunks));
}

/** Resolves once `read()` has not changed for `quietMs` (or after `limitMs`), with its value. */
async function settled(read: () => number, quietMs = 100, limitMs = 3000): Promise<number> {
  const start = Date.now();
  let last = read();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = read();
    if (now === last || Date.now() - start > limitMs) return now;
    last = now;
  }
}

describe("a socket that reuses its read buffer", () => {
  it("delivers every byte of a message many reads long, in order", async () => {
    const { client, server } = await connected();
    const sent = randomBytes(4 * 1024 * 1024 + 3);
    const received = collect(client);
    server.end(sent);
    expect((await received).equals(sent)).toBe(true);
  });

  it("delivers small messages written one after another, none overwritten by a later read", async () => {
    const { client, server } = await connected();
    const chunks: Buffer[] = [];
    client.on("data", (chunk: Buffer) => chunks.push(chunk));
    server.write("first");
    await once(client, "data");
    server.end("SECOND");
    await once(client, "end");
    expect(chunks[0]!.toString()).toBe("first");
    expect(Buffer.concat(chunks).toString()).toBe("firstSECOND");
  });

  it("keeps what arrived before anyone listened", async () => {
    const { client, server } = await connected();
    server.end(Buffer.from("early reply"));
    await settled(() => client.bytesRead);
    expect((await collect(client)).toString()).toBe("early reply");
  });

  it("stops reading from the kernel while paused, and reads the rest after resume", async () => {
    const { client, server } = await connected();
    const sent = randomBytes(32 * 1024 * 1024);
    const chunks: Buffer[] = [];
    let holding = true;
    client.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (holding) client.pause();
    });
    server.end(sent);
    await once(client, "data");
    // A paused consumer's socket holds what its readable side may buffer, not the 32 MiB sent.
    expect(await settled(() => client.bytesRead)).toBeLessThan(1024 * 1024);
    const ended = once(client, "end");
    holding = false;
    client.resume();
    await ended;
    expect(Buffer.concat(chunks).equals(sent)).toBe(true);
  });

  it("stops reading while paused when the data comes in small pieces", async () => {
    const { client, server } = await connected();
    client.on("data", () => client.pause());
    server.write(Buffer.alloc(100));
    await once(client, "data");
    for (let i = 0; i < 1024; i++) {
      server.write(Buffer.alloc(1024));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await settled(() => client.bytesRead)).toBeLessThan(512 * 1024);
  });
});
