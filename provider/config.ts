/**
 * Stack configuration (`virtwire:*`) → connection settings per host. The dynamic-provider plugin
 * hands configure() the whole stack config with namespaced keys and secrets in plaintext; they stay
 * in this process's memory and are never echoed into outputs, logs or messages.
 *
 *   virtwire:uri        the default host                  (else LIBVIRT_DEFAULT_URI, else qemu:///system)
 *   virtwire:username   SASL user name for the default host
 *   virtwire:password   SASL password (secret)
 *   virtwire:hosts      JSON map: host name → { uri, username?, password? }
 */

export interface HostSettings {
  /** The host's name in `virtwire:hosts`, or `default`. */
  name: string;
  uri: string;
  username?: string;
  password?: string;
}

export interface ProviderSettings {
  defaultHost: HostSettings;
  hosts: Record<string, HostSettings>;
}

/** What configure() receives: `get(key)` returns the raw string value or undefined. */
export interface ConfigSource {
  get(key: string): string | undefined;
}

export const CONFIG_KEYS = ["uri", "username", "password", "hosts"] as const;
const HOST_KEYS = ["uri", "username", "password"] as const;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export function readSettings(
  config: ConfigSource,
  env: NodeJS.ProcessEnv = process.env,
): ProviderSettings {
  const value = (key: string) => config.get(`virtwire:${key}`);
  const defaultHost: HostSettings = {
    name: "default",
    uri: value("uri") || env.LIBVIRT_DEFAULT_URI || "qemu:///system",
    username: value("username"),
    password: value("password"),
  };
  return { defaultHost, hosts: parseHosts(value("hosts")) };
}

function parseHosts(text: string | undefined): Record<string, HostSettings> {
  if (text === undefined || text === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(
      "virtwire:hosts must be a map from host name to settings, e.g. pulumi config set --path 'virtwire:hosts.kvm1.uri' qemu+ssh://root@kvm1/system",
    );
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(
      "virtwire:hosts must be a map from host name to settings such as { uri: … }",
    );
  }
  const hosts: Record<string, HostSettings> = {};
  for (const [name, entry] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof entry !== "object" || entry === null) {
      throw new ConfigError(`virtwire:hosts.${name} must be an object with at least a uri`);
    }
    const fields = entry as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (!(HOST_KEYS as readonly string[]).includes(key)) {
        throw new ConfigError(
          `virtwire:hosts.${name} has an unknown setting "${key}"; known settings: ${HOST_KEYS.join(", ")}`,
        );
      }
    }
    if (typeof fields.uri !== "string" || fields.uri === "") {
      throw new ConfigError(
        `virtwire:hosts.${name}.uri is missing: set it with pulumi config set --path 'virtwire:hosts.${name}.uri' <libvirt URI>`,
      );
    }
    hosts[name] = {
      name,
      uri: fields.uri,
      username: optionalString(fields.username, `virtwire:hosts.${name}.username`),
      password: optionalString(fields.password, `virtwire:hosts.${name}.password`),
    };
  }
  return hosts;
}

function optionalString(value: unknown, key: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new ConfigError(`${key} must be a string`);
  return value;
}

/** The settings of a resource's `host` input (undefined: the default host). */
export function hostSettings(settings: ProviderSettings, host: string | undefined): HostSettings {
  if (host === undefined || host === "") return settings.defaultHost;
  const found = settings.hosts[host];
  if (!found) {
    const known = Object.keys(settings.hosts);
    throw new ConfigError(
      `host "${host}" is not configured: ${known.length ? `known hosts are ${known.join(", ")}; ` : ""}add it with pulumi config set --path 'virtwire:hosts.${host}.uri' <libvirt URI>`,
    );
  }
  return found;
}
