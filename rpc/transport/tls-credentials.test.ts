import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthError } from "../errors";
import { loadTlsCredentials, tlsFilePaths } from "./tls-credentials";

describe("tlsFilePaths (virNetTLSContextLocateCredentials)", () => {
  it("uses only pkipath= when given", () => {
    expect(tlsFilePaths("/pki/", 1000, "/home/u")).toEqual({
      ca: ["/pki/cacert.pem"],
      crl: ["/pki/cacrl.pem"],
      certKey: [{ cert: "/pki/clientcert.pem", key: "/pki/clientkey.pem" }],
    });
  });

  it("tries ~/.pki/libvirt first for non-root users, then /etc/pki", () => {
    expect(tlsFilePaths(undefined, 1000, "/home/u")).toEqual({
      ca: ["/home/u/.pki/libvirt/cacert.pem", "/etc/pki/CA/cacert.pem"],
      crl: ["/home/u/.pki/libvirt/cacrl.pem", "/etc/pki/CA/cacrl.pem"],
      certKey: [
        { cert: "/home/u/.pki/libvirt/clientcert.pem", key: "/home/u/.pki/libvirt/clientkey.pem" },
        { cert: "/etc/pki/libvirt/clientcert.pem", key: "/etc/pki/libvirt/private/clientkey.pem" },
      ],
    });
  });

  it("uses only /etc/pki for root", () => {
    expect(tlsFilePaths(undefined, 0, "/root")).toEqual({
      ca: ["/etc/pki/CA/cacert.pem"],
      crl: ["/etc/pki/CA/cacrl.pem"],
      certKey: [
        { cert: "/etc/pki/libvirt/clientcert.pem", key: "/etc/pki/libvirt/private/clientkey.pem" },
      ],
    });
  });
});

describe("loadTlsCredentials", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "vwtest-tlscred-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content = `${name} content`) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  it("reads the CA, the CRL and a complete cert/key pair from pkipath", () => {
    file("cacert.pem");
    file("cacrl.pem");
    file("clientcert.pem");
    file("clientkey.pem");
    const credentials = loadTlsCredentials(dir);
    expect(credentials.ca.toString()).toBe("cacert.pem content");
    expect(credentials.crl?.toString()).toBe("cacrl.pem content");
    expect(credentials.cert?.toString()).toBe("clientcert.pem content");
    expect(credentials.key?.toString()).toBe("clientkey.pem content");
    expect(credentials.sources).toEqual({
      ca: join(dir, "cacert.pem"),
      cert: join(dir, "clientcert.pem"),
    });
  });

  it("goes without a client certificate when the pair is incomplete", () => {
    file("cacert.pem");
    file("clientcert.pem");
    const credentials = loadTlsCredentials(dir);
    expect(credentials.cert).toBeUndefined();
    expect(credentials.key).toBeUndefined();
    expect(credentials.crl).toBeUndefined();
  });

  it("takes the cert/key pair from the first location holding both", () => {
    const paths = {
      ca: [file("ca.pem")],
      crl: [],
      certKey: [
        { cert: file("user-cert.pem"), key: join(dir, "missing-key.pem") },
        { cert: file("sys-cert.pem"), key: file("sys-key.pem") },
      ],
    };
    const credentials = loadTlsCredentials(undefined, {}, paths);
    expect(credentials.cert?.toString()).toBe("sys-cert.pem content");
  });

  it("prefers PEM text from options, item by item", () => {
    file("cacert.pem");
    file("clientcert.pem");
    file("clientkey.pem");
    const credentials = loadTlsCredentials(dir, { cert: "C", key: "K", passphrase: "p" });
    expect(credentials.ca.toString()).toBe("cacert.pem content");
    expect(credentials).toMatchObject({ cert: "C", key: "K", passphrase: "p" });
    expect(credentials.sources.cert).toBe("options.tls.cert");
    expect(loadTlsCredentials(join(dir, "nowhere"), { ca: "A" }).ca).toBe("A");
  });

  it("needs a CA and says where it looked", () => {
    expect(() => loadTlsCredentials(dir)).toThrow(AuthError);
    expect(() => loadTlsCredentials(dir)).toThrow(`looked for ${join(dir, "cacert.pem")}`);
  });

  it("refuses a certificate without its key", () => {
    expect(() => loadTlsCredentials(dir, { ca: "A", cert: "C" })).toThrow(/both cert and key/);
  });
});
