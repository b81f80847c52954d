/**
 * One shared connection per host for the whole plugin process, opened on first use and opened
 * again when it died (keepalive, daemon restart). Concurrent first uses share one attempt.
 */
import {
  Libvirt,
  staticCredentials,
  environmentCredentials,
  authConfCredentials,
  findAuthConf,
  parseLibvirtUri,
} from "../rpc";
import type { CredentialSource } from "../rpc";
import type { HostSettings } from "./config";

export class ConnectionCache {
  private readonly open = new Map<string, Promise<Libvirt>>();

  async get(host: HostSettings): Promise<Libvirt> {
    const key = host.name;
    const existing = this.open.get(key);
    if (existing) {
      const lv = await existing.catch(() => undefined);
      if (lv && !lv.closed) return lv;
      if (this.open.get(key) !== existing) return this.get(host);
    }
    const attempt = Libvirt.connect(host.uri, { credentials: credentialSources(host) });
    this.open.set(key, attempt);
    attempt.catch(() => {
      if (this.open.get(key) === attempt) this.open.delete(key);
    });
    return attempt;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.all(
      all.map((attempt) => attempt.then((lv) => lv.close()).catch(() => undefined)),
    );
  }
}

/** Stack config first, then the environment, then libvirt's auth.conf. */
function credentialSources(host: HostSettings): CredentialSource[] {
  const keys =
    host.name === "default"
      ? "virtwire:username / virtwire:password"
      : `virtwire:hosts.${host.name}.username / .password`;
  const sources = [
    staticCredentials(`stack config (${keys})`, {
      username: host.username,
      password: host.password,
    }),
  ];
  sources.push(environmentCredentials());
  const authConf = findAuthConf(parseLibvirtUri(host.uri).params.authfile);
  if (authConf) sources.push(authConfCredentials(authConf));
  return sources;
}
