/**
 * The tcp and tls transports against the test bed's libvirtd listeners (127.0.0.1:16509 and
 * :16514 inside the namespace; scripts/testbed.sh). Runs inside the namespace, as scripts/test.sh
 * does: `ip netns exec virtwire npx jest --selectProjects integration test/integration/transports-tcp-tls`.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { AuthError, ConnectionClosedError, Libvirt, UriError } from "../../rpc";
import { scratchDir } from "../support/ssh";
import { TLS, makeServerCertificate, pkiFile, startTlsFrontEnd } from "../support/tls";
import { connectAndExercise, connectFailure } from "../support/transport-checks";

const TCP_URI = `qemu+tcp://${TLS.host}:${TLS.tcpPort}/system`;
const TLS_URI = `qemu+tls://${TLS.host}:${TLS.port}/system`;

describe("the tcp transport", () => {
  it("carries the representative calls", async () => {
    await connectAndExercise(TCP_URI);
  });

  it("uses the default port 16509", async () => {
    const lv = await Libvirt.connect(`qemu+tcp://${TLS.host}/system`);
    expect((await lv.ConnectGetHostname()).hostname.length).toBeGreaterThan(0);
    await lv.close();
  });

  it("says where nothing listens", async () => {
    const error = await connectFailure(Libvirt.connect(`qemu+tcp://${TLS.host}:1/system`));
    expect(error).toBeInstanceOf(ConnectionClosedError);
    expect(error.message).toMatch(/cannot connect to 127\.0\.0\.1:1 \(tcp\): connection refused/);
  });
});

describe("the tls transport", () => {
  it("carries the representative calls with the files in pkipath=", async () => {
    await connectAndExercise(`${TLS_URI}?pkipath=${TLS.pki}`);
  });

  it("answers concurrent calls at once (one RPC message per TLS record)", async () => {
    // libvirtd leaves further messages of a shared TLS record unread until more bytes arrive;
    // without keepalive nothing else would arrive, so a stall shows up as the timeout below.
    const started = Date.now();
    const lv = await Libvirt.connect(`${TLS_URI}?pkipath=${TLS.pki}`, { keepalive: false });
    try {
      const calls = Promise.all(Array.from({ length: 50 }, () => lv.ConnectGetHostname()));
      const stall = new Promise((_, reject) =>
        setTimeout(() => reject(new Error("calls stalled")), 3_000).unref(),
      );
      await expect(Promise.race([calls, stall])).resolves.toHaveLength(50);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await lv.close();
    }
  });

  it("uses the default port 16514 and accepts the host name the certificate names", async () => {
    const lv = await Libvirt.connect(`qemu+tls://localhost/system?pkipath=${TLS.pki}`);
    expect((await lv.ConnectGetHostname()).hostname.length).toBeGreaterThan(0);
    await lv.close();
  });

  it("carries the representative calls with PEM strings from options", async () => {
    await connectAndExercise(TLS_URI, {
      tls: { ca: pkiFile("cacert"), cert: pkiFile("clientcert"), key: pkiFile("clientkey") },
    });
  });

  it("takes single items from options over the pkipath= files", async () => {
    const scratch = scratchDir("tls-mixed");
    try {
      copyFileSync(join(TLS.pki, "cacert.pem"), join(scratch.dir, "cacert.pem"));
      const lv = await Libvirt.connect(`${TLS_URI}?pkipath=${scratch.dir}`, {
        tls: { cert: pkiFile("clientcert"), key: pkiFile("clientkey") },
      });
      await lv.close();
    } finally {
      scratch.cleanup();
    }
  });

  it("is rejected by the server without a client certificate, with a clear message", async () => {
    const scratch = scratchDir("tls-nocert");
    try {
      copyFileSync(join(TLS.pki, "cacert.pem"), join(scratch.dir, "cacert.pem"));
      const error = await connectFailure(Libvirt.connect(`${TLS_URI}?pkipath=${scratch.dir}`));
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toMatch(/refused after the handshake/);
      expect(error.message).toMatch(/the server rejected us: we presented no client certificate/);
      const viaOptions = await connectFailure(
        Libvirt.connect(TLS_URI, { tls: { ca: pkiFile("cacert") } }),
      );
      expect(viaOptions.message).toMatch(/we presented no client certificate/);
    } finally {
      scratch.cleanup();
    }
  });

  it("refuses a server whose certificate another CA signed", async () => {
    const scratch = scratchDir("tls-otherca");
    try {
      const other = makeServerCertificate(scratch.dir, "IP:127.0.0.1");
      const error = await connectFailure(
        Libvirt.connect(TLS_URI, {
          tls: { ca: other.ca, cert: pkiFile("clientcert"), key: pkiFile("clientkey") },
        }),
      );
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toMatch(/TLS certificate of 127\.0\.0\.1:16514 failed verification/);
      expect(error.message).toMatch(/no_verify=1/);
    } finally {
      scratch.cleanup();
    }
  });

  it("needs a CA and says where it looked", async () => {
    const scratch = scratchDir("tls-noca");
    try {
      const error = await connectFailure(Libvirt.connect(`${TLS_URI}?pkipath=${scratch.dir}`));
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toContain(`${scratch.dir}/cacert.pem`);
    } finally {
      scratch.cleanup();
    }
  });

  it("refuses tls_priority strings it cannot apply", async () => {
    const error = await connectFailure(
      Libvirt.connect(`${TLS_URI}?pkipath=${TLS.pki}&tls_priority=SECURE256:-VERS-TLS1.2`),
    );
    expect(error).toBeInstanceOf(UriError);
    expect(error.message).toMatch(/GnuTLS priority string/);
  });

  describe("a server certificate for the wrong host name", () => {
    let scratch: ReturnType<typeof scratchDir>;
    let frontEnd: Awaited<ReturnType<typeof startTlsFrontEnd>>;
    let ca: string;

    beforeAll(async () => {
      scratch = scratchDir("tls-wronghost");
      const credentials = makeServerCertificate(scratch.dir, "DNS:wrong.invalid");
      ca = credentials.ca;
      frontEnd = await startTlsFrontEnd(credentials);
    });

    afterAll(async () => {
      await frontEnd?.close();
      scratch?.cleanup();
    });

    it("is refused, naming the mismatch", async () => {
      const error = await connectFailure(
        Libvirt.connect(`qemu+tls://127.0.0.1:${frontEnd.port}/system`, { tls: { ca } }),
      );
      expect(error).toBeInstanceOf(AuthError);
      expect(error.message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(error.message).toMatch(/must name the host of the URI/);
    });

    it("is accepted with no_verify=1", async () => {
      await connectAndExercise(`qemu+tls://127.0.0.1:${frontEnd.port}/system?no_verify=1`, {
        tls: { ca },
      });
    });
  });
});
