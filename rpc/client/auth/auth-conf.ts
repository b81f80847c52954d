/**
 * libvirt's `auth.conf` (a GLib key file), as read by src/util/virauthconfig.c:
 *
 *   [credentials-lab]          a named credential set: username, authname, password, realm
 *   authname = admin
 *   password = …
 *
 *   [auth-libvirt-kvm1]        use set "lab" for SASL logins to host kvm1
 *   credentials = lab
 *   [auth-libvirt-default]     … and for any other host
 *   credentials = lab
 *
 * The file is found as libvirt finds it: `$LIBVIRT_AUTH_FILE`, the URI's `authfile=`,
 * `$XDG_CONFIG_HOME/libvirt/auth.conf` (default `~/.config/…`), then `/etc/libvirt/auth.conf`.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { AuthError } from "../../errors";
import { CredentialSource, CredentialType } from "./credentials";

export type AuthConf = Map<string, Map<string, string>>;

export function parseAuthConf(text: string, path = "auth.conf"): AuthConf {
  const groups: AuthConf = new Map();
  let current: Map<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const group = /^\[([^\]]+)\]$/.exec(line);
    if (group) {
      current = new Map();
      groups.set(group[1]!, current);
      return;
    }
    const eq = line.indexOf("=");
    if (eq <= 0 || current === undefined) {
      throw new AuthError(`${path} line ${index + 1}: expected "[group]" or "key = value"`);
    }
    current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  });
  return groups;
}

/** The first readable auth.conf in libvirt's search order, or undefined. */
export function findAuthConf(
  uriAuthFile?: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const configHome = env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), ".config");
  const candidates = [
    env.LIBVIRT_AUTH_FILE,
    uriAuthFile,
    join(configHome, "libvirt", "auth.conf"),
    "/etc/libvirt/auth.conf",
  ];
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // not there or not readable: try the next one, as libvirt does
    }
  }
  return undefined;
}

/**
 * A credential source backed by an auth.conf file. It answers only what its matching set holds;
 * AUTHNAME falls back to `username` when the set has no `authname`, since many files only say
 * `username`.
 */
export function authConfCredentials(
  path: string,
  text = readFileSync(path, "utf8"),
): CredentialSource {
  const conf = parseAuthConf(text, path);
  return {
    description: `auth.conf ${path}`,
    async collect(requests, context) {
      const set = credentialSet(conf, context.service, context.host, path);
      return requests.map((request) => {
        if (!set) return undefined;
        switch (request.type) {
          case CredentialType.USERNAME:
            return set.get("username");
          case CredentialType.AUTHNAME:
            return set.get("authname") ?? set.get("username");
          case CredentialType.PASSPHRASE:
            return set.get("password");
          case CredentialType.REALM:
            return set.get("realm");
          default:
            return undefined;
        }
      });
    },
  };
}

function credentialSet(
  conf: AuthConf,
  service: string,
  host: string,
  path: string,
): Map<string, string> | undefined {
  const mapping = conf.get(`auth-${service}-${host}`) ?? conf.get(`auth-${service}-default`);
  if (!mapping) return undefined;
  const name = mapping.get("credentials");
  if (!name) throw new AuthError(`${path}: group auth-${service}-… has no "credentials" key`);
  const set = conf.get(`credentials-${name}`);
  if (!set)
    throw new AuthError(`${path}: credentials=${name} names a missing [credentials-${name}] group`);
  return set;
}
