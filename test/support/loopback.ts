/** Small pieces of the loopback servers the transport and authentication tests start. */
import type { Server } from "node:net";
import type { Duplex } from "node:stream";

/** Starts `server` on a free port of 127.0.0.1; `close` stops it listening. */
export async function listenOnLoopback(
  server: Server,
): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return {
    port: address.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A relay's two sides: when either fails or closes, both are destroyed. */
export function endTogether(client: Duplex, daemon: Duplex): void {
  const end = () => {
    client.destroy();
    daemon.destroy();
  };
  for (const side of [client, daemon]) {
    side.on("error", end);
    side.on("close", end);
  }
}
