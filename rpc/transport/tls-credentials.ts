/**
 * Where the TLS client credentials come from (libvirt's `virNetTLSContextLocateCredentials`), and
 * loading them: PEM strings given in options win, item by item, over files.
 *
 *   item        pkipath=DIR            non-root user dir (first)        root / fallback
 *   CA          DIR/cacert.pem         ~/.pki/libvirt/cacert.pem        /etc/pki/CA/cacert.pem
 *   CRL         DIR/cacrl.pem          ~/.pki/libvirt/cacrl.pem         /etc/pki/CA/cacrl.pem
 *   cert        DIR/clientcert.pem     ~/.pki/libvirt/clientcert.pem    /etc/pki/libvirt/clientcert.pem
 *   key         DIR/clientkey.pem      ~/.pki/libvirt/clientkey.pem     /etc/pki/libvirt/private/clientkey.pem
 *
 * The user directory is used only when not running as root; cert and key are taken from it only
 * if both exist there. The CA is required; the CRL is optional; a client without certificate may
 * connect, but a server that verifies clients (the default) then rejects it.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { AuthError } from "../errors";
import { OptionNamer, optionPath } from "../client/option-names";

/** PEM data for the TLS transport, instead of (or on top of) files. */
export interface TlsOptions {
  /** The CA certificate(s) that signed the server certificate. */
  ca?: string | Buffer;
  /** This client's certificate. */
  cert?: string | Buffer;
  /** This client's private key, unencrypted or with `passphrase`. */
  key?: string | Buffer;
  /** The passphrase of an encrypted `key`. */
  passphrase?: string;
  /** A certificate revocation list from the CA. */
  crl?: string | Buffer;
}

export interface TlsFilePaths {
  ca: string[];
  crl: string[];
  /** Candidate cert/key pairs, in order; the first pair whose two files both exist is used. */
  certKey: { cert: string; key: string }[];
}

export interface TlsCredentials {
  ca: string | Buffer;
  crl?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  passphrase?: string;
  /** Where each item came from, for messages (never the content). */
  sources: { ca: string; cert?: string };
}

const SYSTEM_PKI = {
  ca: "/etc/pki/CA/cacert.pem",
  crl: "/etc/pki/CA/cacrl.pem",
  cert: "/etc/pki/libvirt/clientcert.pem",
  key: "/etc/pki/libvirt/private/clientkey.pem",
};

/** The candidate files, in the order libvirt tries them. */
export function tlsFilePaths(
  pkipath: string | undefined,
  euid = process.geteuid?.() ?? 0,
  home = homedir(),
): TlsFilePaths {
  if (pkipath) {
    const dir = pkipath.replace(/\/+$/, "");
    return {
      ca: [`${dir}/cacert.pem`],
      crl: [`${dir}/cacrl.pem`],
      certKey: [{ cert: `${dir}/clientcert.pem`, key: `${dir}/clientkey.pem` }],
    };
  }
  const system = { cert: SYSTEM_PKI.cert, key: SYSTEM_PKI.key };
  if (euid === 0) return { ca: [SYSTEM_PKI.ca], crl: [SYSTEM_PKI.crl], certKey: [system] };
  const user = `${home}/.pki/libvirt`;
  return {
    ca: [`${user}/cacert.pem`, SYSTEM_PKI.ca],
    crl: [`${user}/cacrl.pem`, SYSTEM_PKI.crl],
    certKey: [{ cert: `${user}/clientcert.pem`, key: `${user}/clientkey.pem` }, system],
  };
}

/**
 * Loads the credentials: options first, then the first existing file of each kind. Messages and
 * `sources` name the options with `optionName`.
 */
export function loadTlsCredentials(
  pkipath: string | undefined,
  options: TlsOptions = {},
  paths = tlsFilePaths(pkipath),
  exists: (path: string) => boolean = existsSync,
  optionName: OptionNamer = optionPath,
): TlsCredentials {
  if ((options.cert === undefined) !== (options.key === undefined)) {
    throw new AuthError(
      `${optionName("tls")} needs both cert and key (or neither): a client certificate is useless without its private key`,
    );
  }
  const read = (path: string) => {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new AuthError(`cannot read the TLS file ${path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  };
  let ca: string | Buffer | undefined = options.ca;
  let caSource = optionName("tls.ca");
  if (ca === undefined) {
    const file = paths.ca.find(exists);
    if (!file) {
      throw new AuthError(
        `no CA certificate for the TLS transport: looked for ${paths.ca.join(", ")}; give pkipath=<dir> in the URI (with cacert.pem, clientcert.pem, clientkey.pem) or ${optionName("tls.ca")}`,
      );
    }
    ca = read(file);
    caSource = file;
  }
  const crlFile = options.crl === undefined ? paths.crl.find(exists) : undefined;
  const credentials: TlsCredentials = {
    ca,
    crl: options.crl ?? (crlFile ? read(crlFile) : undefined),
    passphrase: options.passphrase,
    sources: { ca: caSource },
  };
  if (options.cert !== undefined) {
    credentials.cert = options.cert;
    credentials.key = options.key;
    credentials.sources.cert = optionName("tls.cert");
  } else {
    const pair = paths.certKey.find(({ cert, key }) => exists(cert) && exists(key));
    if (pair) {
      credentials.cert = read(pair.cert);
      credentials.key = read(pair.key);
      credentials.sources.cert = pair.cert;
    }
  }
  return credentials;
}
