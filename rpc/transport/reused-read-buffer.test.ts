import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { Server, Socket, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { connectReusingReadBuffer } from "./reused-read-buffer";

let dir: string;
let server: Server;
let peer: Promise<Socket>;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "vwtest-reads-"));
  server = createServer();
  peer = once(server, "connection").then(([socket]) => socket as Socket);
  server.listen(join(dir, "sock"));
  await once(server, "listening");
});

afterEach(async () => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function connected(): Promise<{ client: Socket; server: Socket }> {
  const client = connectReusingReadBuffer({ path: join(dir, "sock") });
  await once(client, "connect");
  return { client, server: await peer };
}

function collect(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return once(socket, "end").then(() => Buffer.concat(chunks));
}

describe("a socket that reuses its read buffer", () => {
  it("delivers every byte of a message larger than its buffer, in order", async () => {
    const { client, server } = await connected();
    const sent = randomBytes(1024 * 1024 + 3);
    const received = collect(client);
    server.end(sent);
    expect((await received).equals(sent)).toBe(true);
    client.destroy();
  });

  it("keeps what arrived before anyone listened", async () => {
    const { client, server } = await connected();
    server.end(Buffer.from("early reply"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await collect(client)).toString()).toBe("early reply");
    client.destroy();
  });

  it("gives each chunk its own bytes, not a view of the reused buffer", async () => {
    const { client, server } = await connected();
    const chunks: Buffer[] = [];
    client.on("data", (chunk: Buffer) => chunks.push(chunk));
    server.write("first");
    await once(client, "data");
    server.end("SECOND");
    await once(client, "end");
    expect(chunks[0]!.toString()).toBe("first");
    expect(Buffer.concat(chunks).toString()).toBe("firstSECOND");
    client.destroy();
  });

  it("stops reading while paused and goes on after resume", async () => {
    const { client, server } = await connected();
    const chunks: Buffer[] = [];
    client.on("data", (chunk: Buffer) => chunks.push(chunk));
    client.pause();
    server.write("while paused");
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(chunks).toEqual([]);
    const ended = once(client, "end");
    client.resume();
    server.end();
    await ended;
    expect(Buffer.concat(chunks).toString()).toBe("while paused");
    client.destroy();
  });
});
