/**
 * TLS helpers for the transport tests: the test bed's PKI (scripts/testbed/pki.sh), certificates
 * made at test time with openssl, and a small TLS front end that behaves like libvirtd's TLS
 * port (handshake, the 0x01 confirmation, then bytes relayed to the daemon's unix socket) while
 * presenting whatever server certificate a test wants.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { Server, createServer } from "node:tls";
import { endTogether, listenOnLoopback } from "./loopback";
import { TEST_SOCKET } from "./testbed";

export const TLS = {
  pki: process.env.VIRTWIRE_TLS_PKI ?? "/run/virtwire-testbed/pki",
  host: "127.0.0.1",
  port: 16514,
  tcpPort: 16509,
};

export function pkiFile(name: "cacert" | "clientcert" | "clientkey"): string {
  return readFileSync(join(TLS.pki, `${name}.pem`), "utf8");
}

/** A CA and a server certificate for `names` (SAN entries such as DNS:wrong.invalid), in `dir`. */
export function makeServerCertificate(
  dir: string,
  names: string,
): { ca: string; cert: string; key: string } {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ca.key"]);
  run([
    ...["req", "-x509", "-new", "-key", "ca.key", "-subj", "/CN=vwtest CA", "-days", "2"],
    ...["-addext", "basicConstraints=critical,CA:TRUE", "-out", "ca.pem"],
  ]);
  run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "srv.key"]);
  run(["req", "-new", "-key", "srv.key", "-subj", "/CN=vwtest server", "-out", "srv.csr"]);
  writeFileSync(join(dir, "srv.ext"), `subjectAltName=${names}\nextendedKeyUsage=serverAuth\n`);
  run([
    ...["x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial"],
    ...["-days", "2", "-extfile", "srv.ext", "-out", "srv.pem"],
  ]);
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return { ca: read("ca.pem"), cert: read("srv.pem"), key: read("srv.key") };
}

/**
 * A TLS listener on 127.0.0.1 (a free port) with the given certificate. It does not ask for a
 * client certificate; after the handshake it sends 0x01 and relays to the daemon's unix socket.
 */
export async function startTlsFrontEnd(
  credentials: { cert: string; key: string },
  daemonSocket = TEST_SOCKET,
): Promise<{ port: number; server: Server; close(): Promise<void> }> {
  const server = createServer({ cert: credentials.cert, key: credentials.key }, (client) => {
    const daemon = createConnection({ path: daemonSocket });
    daemon.once("connect", () => {
      client.write(Buffer.from([0x01]));
      client.pipe(daemon).pipe(client);
    });
    endTogether(client, daemon);
  });
  return { ...(await listenOnLoopback(server)), server };
}
