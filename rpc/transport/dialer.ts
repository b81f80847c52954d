/**
 * Picks the transport the URI names and dials it (libvirt's doRemoteOpen, transport part):
 * each transport is a function from the parsed URI and typed options to a connected Duplex.
 *
 *   unix              local socket (sockets.ts)              secure
 *   tcp               host:16509, plain                      not secure
 *   tls               host:16514, TLS + confirmation byte    secure
 *   ssh/libssh/libssh2 host:22, remote virt-ssh-helper / nc  secure
 *   ext               command=, its stdin/stdout             not secure
 *
 * "Secure" is libvirt's is_secure: whether SASL may send a password without a security layer.
 */
import { existsSync } from "node:fs";
import type { Duplex } from "node:stream";
import { UriError } from "../errors";
import { CredentialSource } from "../client/auth/credentials";
import { untilAborted } from "../client/connect-deadline";
import { OptionNamer, optionPath } from "../client/option-names";
import { dialExt } from "./ext";
import { dialSsh } from "./ssh";
import { SshOptions } from "./ssh-auth";
import { localSocketPath } from "./sockets";
import { DEFAULT_TCP_PORT, dialTcp } from "./tcp";
import { DEFAULT_TLS_PORT, dialTls } from "./tls";
import { TlsOptions, loadTlsCredentials, tlsFilePaths } from "./tls-credentials";
import { dialUnix } from "./unix";
import { LibvirtUri, TransportName, redact, uriFlag } from "./uri";

export interface DialOptions {
  readOnly?: boolean;
  tls?: TlsOptions;
  ssh?: SshOptions;
  /** Where an SSH password (or keyboard-interactive answer) comes from. */
  credentials?: readonly CredentialSource[];
  /** How messages name the options (client/option-names.ts); default `options.<path>`. */
  optionName?: OptionNamer;
  /**
   * The deadline of connecting (client/connect-deadline.ts): dialing gives up when it aborts,
   * with its reason, and closes whatever was opened.
   */
  signal: AbortSignal;
}

/** libvirt's is_secure flag of each transport. */
export function isSecureTransport(transport: TransportName): boolean {
  return transport !== "tcp" && transport !== "ext";
}

export function dialTransport(uri: LibvirtUri, options: DialOptions): Promise<Duplex> {
  // Each transport stops at the abort itself; a socket that is ready regardless comes too late.
  return untilAborted(dialWith(uri, options), options.signal, (late) => late.destroy());
}

async function dialWith(uri: LibvirtUri, options: DialOptions): Promise<Duplex> {
  const { signal } = options;
  const readOnly = options.readOnly ?? false;
  const optionName = options.optionName ?? optionPath;
  const host = uri.host ?? "localhost";
  switch (uri.transport) {
    case "unix":
      return dialUnix(localSocketPath(uri, readOnly), signal);
    case "tcp":
      return dialTcp(host, uri.port ?? DEFAULT_TCP_PORT, signal);
    case "tls":
      checkTlsPriority(uri);
      return dialTls({
        host,
        port: uri.port ?? DEFAULT_TLS_PORT,
        credentials: loadTlsCredentials(
          uri.params.pkipath,
          options.tls,
          tlsFilePaths(uri.params.pkipath),
          existsSync,
          optionName,
        ),
        noVerify: uriFlag(uri, "no_verify"),
        optionName,
        signal,
      });
    case "ext":
      return dialExt(uri.params.command!, signal);
    case "ssh":
    case "libssh":
    case "libssh2":
      return dialSsh(uri, {
        readOnly,
        ssh: options.ssh ?? {},
        credentials: options.credentials ?? [],
        optionName,
        signal,
      });
  }
}

/**
 * `tls_priority` is a GnuTLS priority string; Node uses OpenSSL, which has no equivalent. Its
 * default (NORMAL) is what Node does anyway; anything else is refused rather than ignored.
 */
function checkTlsPriority(uri: LibvirtUri): void {
  const priority = uri.params.tls_priority;
  if (priority !== undefined && priority !== "NORMAL") {
    throw new UriError(
      `tls_priority=${priority} is a GnuTLS priority string, which virtwire (Node.js, OpenSSL) cannot apply; drop it from ${redact(uri.uri)} (Node's defaults allow TLS 1.2 and 1.3 only)`,
    );
  }
}
