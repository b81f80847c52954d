/**
 * SASL against real libvirtd daemons that demand it (test/support/sasl-daemon.ts: private session
 * daemons with their own Cyrus SASL config and sasldb; the shared test bed daemon is untouched),
 * over the unix socket, TLS, plain TCP and a TCP relay. Runs inside the test bed's namespace:
 * `ip netns exec virtwire npx jest test/integration/auth-sasl --selectProjects integration`.
 */
import { AuthError, Libvirt, callbackCredentials, staticCredentials } from "../../rpc";
import type { ConnectOptions, LibvirtUri } from "../../rpc";
import { readSettings } from "../../provider/config";
import { ConnectionCache, connectionFor } from "../../provider/connections";
import { SaslDaemon, spiedUnixSocket, startTcpRelay } from "../support/sasl-daemon";
import { pkiFile } from "../support/tls";
import { connectFailure } from "../support/transport-checks";

const AUTH_LIST = 66;
const AUTH_SASL_INIT = 67;
const AUTH_SASL_START = 68;
const AUTH_SASL_STEP = 69;

let scram: SaslDaemon;
let plain: SaslDaemon;
let digest: SaslDaemon;

beforeAll(async () => {
  [scram, plain, digest] = await Promise.all([
    SaslDaemon.start({ mechanisms: ["scram-sha-256"], listen: true }),
    SaslDaemon.start({ mechanisms: ["plain"] }),
    SaslDaemon.start({ mechanisms: ["digest-md5"] }),
  ]);
});

afterAll(async () => {
  await Promise.all([scram, plain, digest].map((daemon) => daemon?.dispose()));
});

/** A fresh environment without VIRTWIRE_* or LIBVIRT_AUTH_FILE, and no auth.conf to find. */
const CLEAN_ENV: NodeJS.ProcessEnv = { HOME: "/nonexistent", XDG_CONFIG_HOME: "/nonexistent" };

const login = (daemon: SaslDaemon, password = daemon.password): ConnectOptions => ({
  credentials: [staticCredentials("test", { username: daemon.username, password })],
});

async function hostname(uri: string | LibvirtUri, options: ConnectOptions): Promise<string> {
  const lv = await Libvirt.connect(uri, options);
  try {
    return (await lv.ConnectGetHostname()).hostname;
  } finally {
    await lv.close();
  }
}

/** Whatever went wrong, no secret is shown. */
function expectNoSecret(error: Error, ...secrets: string[]): void {
  for (const text of [
    error.message,
    String(error.stack),
    String((error.cause as Error)?.message),
  ]) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
}

describe.each([
  ["the unix socket", () => scram.unixUri],
  ["TLS", () => scram.tlsUri],
])("SASL over %s", (_, uri) => {
  it("connects with the right password, using SCRAM-SHA-256", async () => {
    const before = scram.log.split("Using SASL mechanism SCRAM-SHA-256").length;
    await expect(hostname(uri(), login(scram))).resolves.not.toBe("");
    expect(scram.log.split("Using SASL mechanism SCRAM-SHA-256").length).toBe(before + 1);
  });

  it("fails with a wrong password: a clear AuthError without the password", async () => {
    const wrong = `wrong-${scram.password}`;
    const error = await connectFailure(hostname(uri(), login(scram, wrong)));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(
      /^SASL SCRAM-SHA-256 authentication failed: authentication failed/,
    );
    expectNoSecret(error, wrong, scram.password);
  });

  it("fails before AUTH_SASL_START when a callback answers with an empty passphrase", async () => {
    const starts = scram.saslStarts();
    const callback = callbackCredentials(() => [scram.username, ""], "the application's callback");
    const error = await connectFailure(hostname(uri(), { credentials: [callback] }));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(
      `the credential source "the application's callback" reported success but left the password ("Password for ${uri().includes("tls") ? "127.0.0.1" : "localhost"}") empty; nothing was sent to the server`,
    );
    // The daemon's own log: no AUTH_SASL_START was dispatched.
    expect(scram.saslStarts()).toBe(starts);
  });

  it("takes the user and password from an auth.conf (authfile= in the URI)", async () => {
    const file = scram.writeAuthConf();
    const separator = uri().includes("?") ? "&" : "?";
    await expect(hostname(`${uri()}${separator}authfile=${file}`, {})).resolves.not.toBe("");
  });
});

describe("SASL on the unix socket, seen from the client's side", () => {
  it("sends only AUTH_LIST and AUTH_SASL_INIT when the passphrase is empty", async () => {
    const { socket, spy } = await spiedUnixSocket(scram.socketPath);
    const callback = callbackCredentials(() => [scram.username, ""]);
    const error = await connectFailure(
      Libvirt.connect(scram.unixUri, { transport: socket, credentials: [callback] }),
    );
    expect(error.message).toMatch(/left the password .* empty; nothing was sent to the server$/);
    expect(spy.procedures).toEqual([AUTH_LIST, AUTH_SASL_INIT]);
  });

  it("sends START and STEP with the right password (the spy sees a real login)", async () => {
    const { socket, spy } = await spiedUnixSocket(scram.socketPath);
    const lv = await Libvirt.connect(scram.unixUri, { transport: socket, ...login(scram) });
    await lv.close();
    expect(spy.procedures.slice(0, 4)).toEqual([
      AUTH_LIST,
      AUTH_SASL_INIT,
      AUTH_SASL_START,
      AUTH_SASL_STEP,
    ]);
  });
});

describe("SASL credentials from the provider's settings", () => {
  const cache = new ConnectionCache();
  afterAll(() => cache.closeAll());

  it("logs in with virtwire:username and virtwire:password (unix)", async () => {
    const { defaultHost } = readSettings({
      get: (key) =>
        ({
          "virtwire:uri": scram.unixUri,
          "virtwire:username": scram.username,
          "virtwire:password": scram.password,
        })[key],
    });
    const lv = await cache.get(defaultHost);
    expect((await lv.ConnectGetHostname()).hostname).not.toBe("");
  });

  it("logs in over TLS with the CA, certificate and key from the stack config as PEM", async () => {
    const settings = readSettings({
      get: (key) =>
        ({
          "virtwire:hosts": JSON.stringify({
            sasltls: {
              uri: scram.tlsUri.replace(/\?pkipath=.*$/, ""),
              username: scram.username,
              password: scram.password,
              tlsCaCert: pkiFile("cacert"),
              tlsClientCert: pkiFile("clientcert"),
              tlsClientKey: pkiFile("clientkey"),
            },
          }),
        })[key],
    });
    const lv = await cache.get(settings.hosts.sasltls!);
    expect((await lv.ConnectGetHostname()).hostname).not.toBe("");
  });

  it("falls back to VIRTWIRE_USERNAME and VIRTWIRE_PASSWORD", async () => {
    const env = {
      ...CLEAN_ENV,
      VIRTWIRE_USERNAME: scram.username,
      VIRTWIRE_PASSWORD: scram.password,
    };
    const { uri, options } = connectionFor({ name: "default", uri: scram.unixUri }, env);
    await expect(hostname(uri, options)).resolves.not.toBe("");
  });

  it("names every source it asked when none has the credentials", async () => {
    const { uri, options } = connectionFor({ name: "default", uri: scram.unixUri }, CLEAN_ENV);
    const error = await connectFailure(hostname(uri, options));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(
      "no credential source could supply the user name and password for libvirt on localhost (asked: stack config (virtwire:username, virtwire:password), stack config (virtwire:sshPassword), environment (VIRTWIRE_USERNAME, VIRTWIRE_PASSWORD))",
    );
  });

  it("says when the password is wrong, without showing it", async () => {
    const wrong = `${scram.password}x`;
    const { uri, options } = connectionFor(
      { name: "default", uri: scram.unixUri, username: scram.username, password: wrong },
      CLEAN_ENV,
    );
    const error = await connectFailure(hostname(uri, options));
    expect(error).toBeInstanceOf(AuthError);
    expectNoSecret(error, wrong, scram.password);
  });
});

describe("SASL without encryption", () => {
  it("gets no mechanism from libvirtd on plain TCP (it demands a security layer)", async () => {
    const starts = scram.saslStarts();
    const error = await connectFailure(hostname(scram.tcpUri, login(scram)));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toMatch(
      /^the server could not start SASL authentication: .*authentication failed/,
    );
    expect(scram.log).toContain("no SASL mechanisms are available");
    expect(scram.saslStarts()).toBe(starts);
  });

  it("uses PLAIN on the unix socket, which is local", async () => {
    await expect(hostname(plain.unixUri, login(plain))).resolves.not.toBe("");
    expect(plain.log).toContain("Using SASL mechanism PLAIN");
  });

  it("refuses PLAIN over plain TCP before sending the password, also when forced", async () => {
    const relay = await startTcpRelay(plain.socketPath);
    try {
      for (const query of ["", "?auth=sasl.PLAIN"]) {
        const uri = `qemu+tcp://127.0.0.1:${relay.port}/session${query}`;
        const error = await connectFailure(hostname(uri, login(plain)));
        expect(error).toBeInstanceOf(AuthError);
        expect(error.message).toBe(
          "SASL PLAIN would send the password in clear over an unencrypted channel; use TLS, SSH or the unix socket, or enable scram-sha-256 on the daemon",
        );
      }
      expect(relay.spy.procedures).toEqual([AUTH_LIST, AUTH_SASL_INIT, AUTH_LIST, AUTH_SASL_INIT]);
    } finally {
      await relay.close();
    }
  });

  it("explains that DIGEST-MD5 is not supported, before sending anything", async () => {
    const error = await connectFailure(hostname(digest.unixUri, login(digest)));
    expect(error).toBeInstanceOf(AuthError);
    expect(error.message).toBe(
      "the server offers SASL mechanisms DIGEST-MD5, none of which virtwire can use (DIGEST-MD5 is deprecated (RFC 6331) and not supported by virtwire); add scram-sha-256 to mech_list in the daemon's /etc/sasl2/libvirt.conf",
    );
    expect(digest.saslStarts()).toBe(0);
  });
});
