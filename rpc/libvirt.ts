/**
 * Libvirt: an open connection to a libvirt daemon, with one typed method per REMOTE procedure
 * (`await lv.DomainLookupByName({ name: "vm1" })`) and per QEMU procedure
 * (`lv.QemuDomainAgentCommand(…)`). The methods are built from the procedure tables, so each table
 * stays the only place a procedure is declared.
 */
import { EventEmitter } from "node:events";
import type { Duplex } from "node:stream";
import { PerCallOptions, callProcedure } from "./client/call";
import { connectDeadline, untilAborted } from "./client/connect-deadline";
import { Connection } from "./client/connection";
import { DEFAULT_DEADLINES, Deadlines, validateDeadlines } from "./client/deadlines";
import {
  DEFAULT_KEEPALIVE,
  KeepAliveOptions,
  superviseConnection,
  validateKeepAliveOptions,
} from "./client/keepalive";
import { ServerFeatures, openConnection } from "./client/open";
import { LibvirtEvents } from "./events";
import { findAuthConf, authConfCredentials } from "./client/auth/auth-conf";
import {
  CredentialSource,
  environmentCredentials,
  staticCredentials,
} from "./client/auth/credentials";
import { passwordSasl } from "./client/auth/password-sasl";
import { OptionNamer, optionPath } from "./client/option-names";
import { ArgsOf, Procedure, RetOf } from "./protocol/program";
import { QemuProcedures } from "./protocol/qemu-program";
import { RemoteProcedures } from "./protocol/remote";
import { dialTransport, isSecureTransport } from "./transport/dialer";
import type { SshOptions } from "./transport/ssh-auth";
import type { TlsOptions } from "./transport/tls-credentials";
import { LibvirtUri, parseLibvirtUri, redact } from "./transport/uri";
import { xdrVoid } from "./xdr";

export const DEFAULT_URI = "qemu:///system";

/**
 * How to connect. The deadlines (client/deadlines.ts) are in milliseconds, 0 for none:
 * `callTimeoutMs` for a call's reply (default 5 min), `longCallTimeoutMs` for procedures that copy
 * or write whole volumes or guest memory and for a stream's finish (1 h), `streamIdleTimeoutMs`
 * for a stream waiting on a silent daemon (5 min). A call that misses its deadline fails with
 * CallTimeoutError, a stream with StreamTimeoutError; the connection stays open.
 */
export interface ConnectOptions extends Partial<Deadlines> {
  readOnly?: boolean;
  /** A transport already connected to the daemon; skips dialing. */
  transport?: Duplex;
  /**
   * Milliseconds to wait for the transport and the connection sequence together (default 30 s);
   * then connecting fails with ConnectionClosedError.
   */
  timeoutMs?: number;
  /** Gives up connecting when it aborts, failing with its reason; an open connection ignores it. */
  signal?: AbortSignal;
  /**
   * Where SASL credentials come from, asked in order. Default: the URI's user name, the
   * environment (`VIRTWIRE_USERNAME`, `VIRTWIRE_PASSWORD`), then libvirt's auth.conf.
   */
  credentials?: readonly CredentialSource[];
  /**
   * Our own keepalive PINGs (libvirt's virConnectSetKeepAlive): after `interval` silent seconds a
   * PING is sent, and a daemon that stays silent for `interval × (count + 1)` seconds is declared
   * dead: pending calls fail with KeepaliveTimeoutError and the connection closes. Default
   * `{ interval: 5, count: 5 }`; `false` turns it off. Only used when the server supports keepalive.
   */
  keepalive?: Partial<KeepAliveOptions> | false;
  /**
   * TLS credentials as PEM text, each used instead of the file libvirt would read (pkipath=, then
   * ~/.pki/libvirt, then /etc/pki): `{ ca, cert, key, passphrase?, crl? }`.
   */
  tls?: TlsOptions;
  /**
   * SSH transports: `privateKey` (PEM/OpenSSH text) and its `passphrase`, a `password` (else the
   * credential sources are asked), `hostKeyFingerprint` ("SHA256:…", pins the host key instead
   * of known_hosts), `knownHosts` (a known_hosts file instead of `known_hosts=` and the default
   * files) and `agent` (socket path, default $SSH_AUTH_SOCK; false for none).
   */
  ssh?: SshOptions;
  /**
   * How messages name these options (client/option-names.ts): a message that says what to set
   * names it with this function. Default: the option's path, `options.ssh.privateKey`.
   */
  optionName?: OptionNamer;
}

/** How long to wait for the daemon's answer to CONNECT_CLOSE, a courtesy before hanging up. */
const CLOSE_TIMEOUT_MS = 5_000;

/** Events of a Libvirt connection. */
export interface LibvirtConnectionEvents {
  /** The connection closed: by `close()`, by the daemon, or because it stopped answering. */
  closed: [reason: Error];
}

/**
 * One method per procedure of a table, taking its args (none for procedures without) and
 * optionally a deadline or AbortSignal for this call: `lv.StoragePoolBuild({ pool, flags: 0 }, { timeoutMs })`.
 */
export type ProcedureApi<T> = {
  [K in keyof T]: ArgsOf<T[K]> extends void
    ? (options?: PerCallOptions) => Promise<RetOf<T[K]>>
    : (args: ArgsOf<T[K]>, options?: PerCallOptions) => Promise<RetOf<T[K]>>;
};

/** One method per REMOTE procedure. */
export type RemoteApi = ProcedureApi<RemoteProcedures>;
/** One method per QEMU procedure (libvirt-qemu: raw monitor and guest agent commands). */
export type QemuApi = ProcedureApi<QemuProcedures>;

// The procedure methods are installed on the prototype below, from the tables.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface Libvirt extends RemoteApi, QemuApi {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class Libvirt extends EventEmitter<LibvirtConnectionEvents> {
  private closing: Promise<void> | undefined;
  /** Typed event subscriptions: `await lv.events.onDomainLifecycle(handler)`. */
  readonly events: LibvirtEvents;

  private constructor(
    readonly connection: Connection,
    readonly uri: LibvirtUri,
    readonly features: ServerFeatures,
  ) {
    super();
    this.events = new LibvirtEvents(connection, features);
    connection.once("closed", (reason: Error) => this.emit("closed", reason));
  }

  /**
   * Opens a connection: dials the transport the URI names, authenticates and sends CONNECT_OPEN,
   * all within one deadline (`timeoutMs`, `signal`). The URI, as text or parsed
   * (parseLibvirtUri), defaults to `$LIBVIRT_DEFAULT_URI`, then `qemu:///system`.
   */
  static async connect(uri?: string | LibvirtUri, options: ConnectOptions = {}): Promise<Libvirt> {
    const optionName = options.optionName ?? optionPath;
    const parsed =
      typeof uri === "object"
        ? uri
        : parseLibvirtUri(uri ?? process.env.LIBVIRT_DEFAULT_URI ?? DEFAULT_URI, optionName);
    const keepalive =
      options.keepalive === false ? false : { ...DEFAULT_KEEPALIVE, ...options.keepalive };
    if (keepalive) validateKeepAliveOptions(keepalive);
    const deadlines = deadlinesFrom(options);
    // Asked for SSH passwords and by SASL. Made before anything is dialed, so a broken auth.conf
    // fails every connect, whatever the transport and authentication turn out to be.
    const credentials = options.credentials ?? defaultCredentialSources(parsed);
    const deadline = connectDeadline(
      redact(parsed.uri),
      options.timeoutMs ?? 30_000,
      options.signal,
    );
    try {
      const socket =
        options.transport ??
        (await dialTransport(parsed, {
          readOnly: options.readOnly,
          tls: options.tls,
          ssh: options.ssh,
          credentials,
          optionName,
          signal: deadline.signal,
        }));
      const connection = new Connection(socket, deadlines);
      try {
        const opening = openConnection(connection, {
          name: parsed.name,
          readOnly: options.readOnly,
          auth: parsed.params.auth,
          sasl: passwordSasl(
            credentials,
            { service: "libvirt", host: parsed.host ?? "localhost" },
            // PLAIN sends the password itself: only where the channel is local or encrypted.
            { secure: isSecureTransport(parsed.transport) },
          ),
        });
        const features = await untilAborted(opening, deadline.signal);
        const lv = new Libvirt(connection, parsed, features);
        // A server that does not do keepalive would not answer our PINGs either.
        if (keepalive && features.keepalive) superviseConnection(connection, keepalive);
        return lv;
      } catch (error) {
        connection.destroy();
        throw error;
      }
    } finally {
      deadline.done();
    }
  }

  /** Calls any procedure of the table (or of another program sharing this connection). */
  call<P extends Procedure<unknown, unknown>>(
    procedure: P,
    args: ArgsOf<P>,
    options?: PerCallOptions,
  ): Promise<RetOf<P>> {
    const typed = procedure as Procedure<ArgsOf<P>, RetOf<P>>;
    return callProcedure(this.connection, typed, args, options);
  }

  /** True once the connection closed; the "closed" event and `closeReason` say why. */
  get closed(): boolean {
    return this.connection.closed;
  }

  /** Why the connection closed (e.g. a KeepaliveTimeoutError), if it has. */
  get closeReason(): Error | undefined {
    return this.connection.closeReason;
  }

  /** Sends CONNECT_CLOSE, then closes the transport. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (!this.connection.closed) await this.ConnectClose({ timeoutMs: CLOSE_TIMEOUT_MS });
      } catch {
        // The daemon may already be gone; the transport is closed below either way.
      } finally {
        this.connection.destroy();
      }
    })();
    return this.closing;
  }
}

for (const procedure of [
  ...Object.values(RemoteProcedures),
  ...Object.values(QemuProcedures),
] as Procedure<unknown, unknown>[]) {
  if (Object.prototype.hasOwnProperty.call(Libvirt.prototype, procedure.name)) {
    throw new Error(`two procedures are named ${procedure.name}`);
  }
  // A procedure without args takes the per-call options first.
  const value =
    procedure.args === xdrVoid
      ? function (this: Libvirt, options?: PerCallOptions) {
          return callProcedure(this.connection, procedure, undefined, options);
        }
      : function (this: Libvirt, args: unknown, options?: PerCallOptions) {
          return callProcedure(this.connection, procedure, args, options);
        };
  Object.defineProperty(Libvirt.prototype, procedure.name, {
    value,
    writable: false,
    enumerable: false,
  });
}

/** The deadlines among the options, over the defaults; a bad value is a RangeError. */
function deadlinesFrom(options: ConnectOptions): Deadlines {
  const deadlines = {
    callTimeoutMs: options.callTimeoutMs ?? DEFAULT_DEADLINES.callTimeoutMs,
    longCallTimeoutMs: options.longCallTimeoutMs ?? DEFAULT_DEADLINES.longCallTimeoutMs,
    streamIdleTimeoutMs: options.streamIdleTimeoutMs ?? DEFAULT_DEADLINES.streamIdleTimeoutMs,
  };
  validateDeadlines(deadlines); // before anything is dialed
  return deadlines;
}

function defaultCredentialSources(uri: LibvirtUri): CredentialSource[] {
  const sources: CredentialSource[] = [];
  if (uri.user) sources.push(staticCredentials("the user name in the URI", { username: uri.user }));
  sources.push(environmentCredentials());
  const authConf = findAuthConf(uri.params.authfile);
  if (authConf) sources.push(authConfCredentials(authConf));
  return sources;
}
