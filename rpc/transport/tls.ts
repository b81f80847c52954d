/**
 * The tls transport: TLS from the first byte to libvirtd's `listen_tls` port (16514), then the
 * server's one-byte verdict on us, which libvirt's client reads in virNetClientSetTLSSession
 * (src/rpc/virnetclient.c): after its own checks of our certificate and address the server writes
 * 0x01, or closes the connection. Only then does RPC start.
 *
 * The server is verified as libvirt's client does (chain to the CA, validity, the URI's host
 * name against the certificate's names) unless `no_verify=1`. No SNI is needed; Node sends one
 * for host names (never for IP addresses), which libvirtd ignores.
 */
import { isIP } from "node:net";
import { Duplex } from "node:stream";
import { TLSSocket, connect } from "node:tls";
import { AuthError, ConnectionClosedError } from "../errors";
import { abortReason } from "../client/connect-deadline";
import { OptionNamer, optionPath } from "../client/option-names";
import { connectSocket } from "./connect-socket";
import { describeNetworkError, formatHostPort } from "./tcp";
import { TlsCredentials } from "./tls-credentials";

export const DEFAULT_TLS_PORT = 16514;

/** The byte libvirtd sends after accepting our certificate and address. */
const TLS_CONFIRMATION = 0x01;

export interface TlsDialOptions {
  host: string;
  port: number;
  credentials: TlsCredentials;
  /** `no_verify=1`: accept any server certificate (insecure). */
  noVerify: boolean;
  /** How messages name the options (client/option-names.ts); default `options.<path>`. */
  optionName?: OptionNamer;
  signal?: AbortSignal;
}

export async function dialTls(options: TlsDialOptions): Promise<Duplex> {
  const { host, port, credentials } = options;
  const where = formatHostPort(host, port);
  const socket = connect({
    host,
    port,
    servername: isIP(host) ? undefined : host,
    ca: credentials.ca,
    crl: credentials.crl,
    cert: credentials.cert,
    key: credentials.key,
    passphrase: credentials.passphrase,
    rejectUnauthorized: !options.noVerify,
  });
  socket.setNoDelay(true);
  await connectSocket(socket, "secureConnect", options.signal, (error) =>
    describeHandshakeError(host, port, credentials, error),
  );
  const optionName = options.optionName ?? optionPath;
  await readConfirmation(socket, where, credentials, optionName, options.signal);
  return oneRecordPerWrite(socket);
}

/**
 * Node's TLS socket joins writes queued behind each other into one TLS record, so several
 * concurrent calls can share a record. libvirtd (9.0, GnuTLS) reads one message per wake-up and
 * does not look at plaintext GnuTLS has already decrypted: the other calls in that record then
 * wait until more bytes arrive (its keepalive PING, 5 s later, or never). Passing each write on
 * only after the previous one went out keeps one RPC message per record, as libvirt's own client
 * sends them.
 */
export function oneRecordPerWrite(socket: TLSSocket): Duplex {
  let ended = false;
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, (error) => callback(error ?? null));
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on("data", (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.once("end", () => {
    ended = true;
    duplex.push(null);
  });
  socket.on("error", (error) => duplex.destroy(error));
  socket.once("close", () => {
    if (!ended && !duplex.destroyed) duplex.destroy();
  });
  return duplex;
}

function describeHandshakeError(
  host: string,
  port: number,
  credentials: TlsCredentials,
  error: NodeJS.ErrnoException,
): Error {
  const where = formatHostPort(host, port);
  if (error.code && CERTIFICATE_ERRORS.has(error.code)) {
    return new AuthError(
      `the TLS certificate of ${where} failed verification (${error.code}: ${error.message}); ` +
        `the CA used is ${credentials.sources.ca}, and the certificate must name the host of the URI. ` +
        `Fix the server certificate or the URI's host name; no_verify=1 skips the check (insecure)`,
      { cause: error },
    );
  }
  if (error.code === "ECONNRESET" || error.code?.startsWith("ERR_SSL")) {
    return new ConnectionClosedError(
      `the TLS handshake with ${where} failed (${error.code}: ${error.message}); is this libvirtd's TLS port?`,
      { cause: error },
    );
  }
  return new ConnectionClosedError(describeNetworkError("tls", host, port, error), {
    cause: error,
  });
}

/** Node/OpenSSL codes for a server certificate that does not verify. */
const CERTIFICATE_ERRORS = new Set([
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
  "INVALID_PURPOSE",
  "HOSTNAME_MISMATCH",
]);

/**
 * Reads exactly one byte, leaving anything after it buffered for the RPC layer. EOF, an error or
 * another value means the server refused us (libvirt: "server verification (of our certificate or
 * IP address) failed").
 */
function readConfirmation(
  socket: TLSSocket,
  where: string,
  credentials: TlsCredentials,
  optionName: OptionNamer,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const rejected = (detail: string, cause?: Error) => {
      cleanup();
      socket.destroy();
      const advice = credentials.sources.cert
        ? `the server rejected our client certificate (${credentials.sources.cert}) or our address. ` +
          `It must trust the CA that signed our certificate, and list its DN in tls_allowed_dn_list if it uses one`
        : `the server rejected us: we presented no client certificate (none in ${optionName("tls")}, and no ` +
          `clientcert.pem/clientkey.pem pair where libvirt looks), and libvirtd requires one unless ` +
          `tls_no_verify_certificate = 1. Give one with pkipath= or ${optionName("tls.cert")} and ${optionName("tls.key")}`;
      reject(
        new AuthError(
          `TLS connection to libvirt at ${where} refused after the handshake (${detail}): ${advice}`,
          { cause },
        ),
      );
    };
    const onReadable = () => {
      const byte = socket.read(1) as Buffer | null;
      if (byte === null) return;
      if (byte[0] === TLS_CONFIRMATION) {
        cleanup();
        resolve();
      } else {
        rejected(`it answered 0x${byte[0]!.toString(16).padStart(2, "0")} instead of 0x01`);
      }
    };
    const onEnd = () => rejected("it closed the connection after the TLS handshake");
    const onError = (error: Error) =>
      rejected(`the connection failed after the TLS handshake (${error.message})`, error);
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(abortReason(signal!));
    };
    const cleanup = () => {
      socket.off("readable", onReadable);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.off("error", onError);
      signal?.removeEventListener("abort", onAbort);
    };
    socket.on("readable", onReadable);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
    socket.once("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
