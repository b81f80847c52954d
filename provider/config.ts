/**
 * Stack configuration (`virtwire:*`) → connection settings per host. The dynamic-provider plugin
 * hands configure() the whole stack config with namespaced keys and secrets in plaintext; they stay
 * in this process's memory and are never echoed into outputs, logs or messages: every message
 * here names the key, never its value.
 *
 *   virtwire:uri                      the default host (else LIBVIRT_DEFAULT_URI, else qemu:///system)
 *   virtwire:username                 SASL user name
 *   virtwire:password                 SASL password (secret)
 *   virtwire:sshPrivateKey            SSH private key, PEM or OpenSSH text (secret)
 *   virtwire:sshPrivateKeyPassphrase  its passphrase (secret)
 *   virtwire:sshPassword              SSH password, also for keyboard-interactive (secret)
 *   virtwire:sshHostKeyFingerprint    pinned host key fingerprint(s), SHA256:…, comma-separated
 *   virtwire:sshKnownHosts            known_hosts file to check the host key against
 *   virtwire:tlsCaCert                CA certificate (PEM text)
 *   virtwire:tlsClientCert            client certificate (PEM text)
 *   virtwire:tlsClientKey             client private key (PEM text, secret)
 *   virtwire:authFile                 libvirt auth.conf to read credentials from
 *   virtwire:callTimeout              seconds to wait for a call's answer (rpc/client/deadlines.ts)
 *   virtwire:longCallTimeout          the same for calls that copy or write whole volumes
 *   virtwire:streamIdleTimeout        seconds an upload or download may wait with no data moving
 *   virtwire:keepaliveInterval        seconds of silence before a keepalive PING (rpc/client/keepalive.ts)
 *   virtwire:keepaliveCount           unanswered PINGs before the daemon is taken as dead
 *   virtwire:hosts                    JSON map: host name → { uri, and any key above }
 *   virtwire:plugin                   true: the TypeScript SDK's resources use the plugin (sdk/)
 *
 * The top-level keys describe the default host only; an entry of virtwire:hosts has its own. A key
 * that is set but empty is an error, as is an unknown key: nothing is silently ignored.
 */
import { schema } from "../resources/kit/generated/schema";
import type { HostConfig } from "../resources/kit/generated/types";
import { closest } from "../resources/kit/suggest";

/** A setting of one host: at the top level (the default host) and in each virtwire:hosts entry. */
export type HostKey = keyof HostConfig;

const HOST_CONFIG = schema.types!["virtwire:index:HostConfig"]!.properties!;

/** The settings of one host, as schema.json's HostConfig lists them. */
export const HOST_KEYS = Object.keys(HOST_CONFIG) as HostKey[];

/** Keys whose values are secrets (`pulumi config set --secret`): those schema.json marks secret. */
export const SECRET_KEYS: readonly HostKey[] = HOST_KEYS.filter((key) => HOST_CONFIG[key]!.secret);

/** Every top-level key, as schema.json's config lists them: the default host's settings and `hosts`. */
export const CONFIG_KEYS = Object.keys(schema.config!.variables!);

/** The settings of a host that are deadlines, in seconds. */
export type DeadlineKey = "callTimeout" | "longCallTimeout" | "streamIdleTimeout";

/** The settings of a host that are whole numbers: the deadlines and keepalive's. */
export type NumberKey = DeadlineKey | "keepaliveInterval" | "keepaliveCount";

/** For messages: what a number setting counts, and what its 0 means ("" when nothing special). */
const NUMBER_MEANING: Record<NumberKey, { unit: "seconds" | "PINGs"; zero: string }> = {
  callTimeout: { unit: "seconds", zero: "to wait forever" },
  longCallTimeout: { unit: "seconds", zero: "to wait forever" },
  streamIdleTimeout: { unit: "seconds", zero: "to wait forever" },
  keepaliveInterval: { unit: "seconds", zero: "to turn keepalive off" },
  keepaliveCount: { unit: "PINGs", zero: "" },
};

/** A host's settings: schema.json's HostConfig, with its name and the fingerprints split. */
export interface HostSettings extends Omit<HostConfig, "sshHostKeyFingerprint"> {
  /** The host's name in `virtwire:hosts`, or `default`. */
  name: string;
  /** `SHA256:…` fingerprints, as `ssh-keygen -lf` prints them. */
  sshHostKeyFingerprint?: string[];
}

export interface ProviderSettings {
  defaultHost: HostSettings;
  hosts: Record<string, HostSettings>;
}

/** What configure() receives: `get(key)` returns the raw string value or undefined. */
export interface ConfigSource {
  get(key: string): string | undefined;
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The full name of a host's setting in the stack config, for messages: `virtwire:hosts.kvm1.password`. */
export function settingName(host: string, key: HostKey): string {
  return host === "default" ? `virtwire:${key}` : `virtwire:hosts.${host}.${key}`;
}

/** How to set a key, for messages: `pulumi config set --secret virtwire:password <value>`. */
export function setCommand(host: string, key: HostKey, value = "<value>"): string {
  const secret = SECRET_KEYS.includes(key) ? " --secret" : "";
  return host === "default"
    ? `pulumi config set${secret} virtwire:${key} ${value}`
    : `pulumi config set${secret} --path 'virtwire:hosts.${host}.${key}' ${value}`;
}

export function readSettings(
  config: ConfigSource,
  env: NodeJS.ProcessEnv = process.env,
): ProviderSettings {
  checkKnownKeys(config);
  checkPluginSwitch(config.get("virtwire:plugin"));
  const fields: Record<string, unknown> = {};
  for (const key of HOST_KEYS) fields[key] = config.get(`virtwire:${key}`);
  fields.uri ??= env.LIBVIRT_DEFAULT_URI || "qemu:///system";
  return {
    defaultHost: hostFrom("default", fields),
    hosts: parseHosts(config.get("virtwire:hosts")),
  };
}

/**
 * The plugin's config object keeps the whole stack config as `rawConfig` (cmd/dynamic-provider
 * config.js); when it is there, a misspelt `virtwire:` key is refused instead of ignored.
 */
function checkKnownKeys(config: ConfigSource): void {
  const raw = (config as { rawConfig?: unknown }).rawConfig;
  if (typeof raw !== "object" || raw === null) return;
  for (const full of Object.keys(raw)) {
    if (!full.startsWith("virtwire:")) continue;
    const key = full.slice("virtwire:".length);
    if ((CONFIG_KEYS as readonly string[]).includes(key)) continue;
    throw new ConfigError(
      `${full} is not a virtwire setting${suggest(key, CONFIG_KEYS)}; known settings: ${CONFIG_KEYS.map((k) => `virtwire:${k}`).join(", ")}`,
    );
  }
}

/** `virtwire:plugin` is read by the TypeScript SDK (sdk/); here it is only checked. */
function checkPluginSwitch(value: string | undefined): void {
  if (value === undefined) return;
  if (value.trim() === "") throw emptyError("virtwire:plugin");
  if (!/^(true|false)$/.test(value.trim())) {
    throw new ConfigError(
      "virtwire:plugin must be true (resources go through the provider plugin) or false (the dynamic provider, the default)",
    );
  }
}

function parseHosts(text: string | undefined): Record<string, HostSettings> {
  if (text === undefined) return {};
  if (text === "") throw emptyError("virtwire:hosts");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text, which may hold secrets: never pass it on.
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
    if (name === "default" || name === "") {
      throw new ConfigError(
        `virtwire:hosts cannot have an entry named "${name}": the default host is set with virtwire:uri and the other top-level keys`,
      );
    }
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`virtwire:hosts.${name} must be an object with at least a uri`);
    }
    const fields = entry as Record<string, unknown>;
    for (const key of Object.keys(fields)) {
      if (!(HOST_KEYS as readonly string[]).includes(key)) {
        throw new ConfigError(
          `virtwire:hosts.${name} has an unknown setting "${key}"${suggest(key, HOST_KEYS)}; known settings: ${HOST_KEYS.join(", ")}`,
        );
      }
    }
    if (fields.uri === undefined) {
      throw new ConfigError(
        `virtwire:hosts.${name}.uri is missing: set it with pulumi config set --path 'virtwire:hosts.${name}.uri' <libvirt URI>`,
      );
    }
    hosts[name] = hostFrom(name, fields);
  }
  return hosts;
}

/** Validates one host's fields (raw config values) into settings. */
function hostFrom(name: string, fields: Record<string, unknown>): HostSettings {
  const text = (key: HostKey): string | undefined => {
    const value = fields[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string")
      throw new ConfigError(`${settingName(name, key)} must be a string`);
    if (value.trim() === "") throw emptyError(settingName(name, key));
    return value;
  };
  const pem = (key: HostKey, kind: "certificate" | "private key"): string | undefined => {
    const value = text(key);
    const marker =
      kind === "certificate"
        ? /-----BEGIN [A-Z0-9 ]*CERTIFICATE-----/
        : /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
    if (value !== undefined && !marker.test(value)) {
      throw new ConfigError(
        `${settingName(name, key)} must hold the ${kind} itself (PEM text starting with -----BEGIN …), not a file name; ` +
          `set it from the file with ${setCommand(name, key, "< <file>")}`,
      );
    }
    return value;
  };
  const settings: HostSettings = {
    name,
    uri: text("uri")!,
    username: text("username"),
    password: text("password"),
    sshPrivateKey: pem("sshPrivateKey", "private key"),
    sshPrivateKeyPassphrase: text("sshPrivateKeyPassphrase"),
    sshPassword: text("sshPassword"),
    sshHostKeyFingerprint: fingerprints(name, fields.sshHostKeyFingerprint),
    sshKnownHosts: text("sshKnownHosts"),
    tlsCaCert: pem("tlsCaCert", "certificate"),
    tlsClientCert: pem("tlsClientCert", "certificate"),
    tlsClientKey: pem("tlsClientKey", "private key"),
    authFile: text("authFile"),
    callTimeout: wholeNumber(name, "callTimeout", fields.callTimeout),
    longCallTimeout: wholeNumber(name, "longCallTimeout", fields.longCallTimeout),
    streamIdleTimeout: wholeNumber(name, "streamIdleTimeout", fields.streamIdleTimeout),
    keepaliveInterval: wholeNumber(name, "keepaliveInterval", fields.keepaliveInterval),
    keepaliveCount: wholeNumber(name, "keepaliveCount", fields.keepaliveCount),
  };
  if ((settings.tlsClientCert === undefined) !== (settings.tlsClientKey === undefined)) {
    const [given, missing] =
      settings.tlsClientCert === undefined
        ? (["tlsClientKey", "tlsClientCert"] as const)
        : (["tlsClientCert", "tlsClientKey"] as const);
    throw new ConfigError(
      `${settingName(name, given)} is set but ${settingName(name, missing)} is not: a client certificate needs its private key; set it with ${setCommand(name, missing, "< <file>")}`,
    );
  }
  return settings;
}

/** A host's deadline in seconds: its setting, else schema.json's default. */
export function deadline(host: HostSettings, key: DeadlineKey): number {
  return numberSetting(host, key);
}

/** A host's number setting: its own value, else schema.json's default. */
export function numberSetting(host: HostSettings, key: NumberKey): number {
  return host[key] ?? (HOST_CONFIG[key]!.default as number);
}

/**
 * A number setting, whole and within schema.json's bounds. The stack config gives a string; a
 * `--path` entry of virtwire:hosts may hold a number.
 */
function wholeNumber(host: string, key: NumberKey, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const property = HOST_CONFIG[key]!;
  const { minimum = 0, maximum = Infinity } = property.language?.virtwire ?? {};
  const text = typeof value === "number" ? String(value) : value;
  if (typeof text === "string" && text.trim() === "") throw emptyError(settingName(host, key));
  const number = typeof text === "string" && /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!(number >= minimum && number <= maximum)) {
    const setting = settingName(host, key);
    const rm = setting.includes(".") ? `--path '${setting}'` : setting;
    const { unit, zero } = NUMBER_MEANING[key];
    const fallback = `${String(property.default)}${unit === "seconds" ? " s" : ""}`;
    throw new ConfigError(
      `${setting} must be a whole number of ${unit} up to ${maximum}${zero ? `, or 0 ${zero}` : ""}; ` +
        `remove it (pulumi config rm ${rm}) for the default of ${fallback}`,
    );
  }
  return number;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}=?$/;

/** One or several `SHA256:…` fingerprints: a comma- or space-separated string, or a list. */
function fingerprints(host: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const key = settingName(host, "sshHostKeyFingerprint");
  const items = Array.isArray(value) ? value : [value];
  if (!items.every((item) => typeof item === "string")) {
    throw new ConfigError(`${key} must be a string (SHA256:… fingerprints, comma-separated)`);
  }
  const prints = (items as string[]).flatMap((item) => item.split(/[\s,]+/)).filter(Boolean);
  if (prints.length === 0) throw emptyError(key);
  prints.forEach((print, index) => {
    if (!FINGERPRINT.test(print)) {
      throw new ConfigError(
        `${key}: entry ${index + 1} is not a SHA256 fingerprint; give SHA256: and 43 base64 characters, as ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub prints on the server`,
      );
    }
  });
  return prints;
}

function emptyError(key: string): ConfigError {
  return new ConfigError(
    `${key} is set but empty; virtwire never sends an empty credential or setting: give it a value, or remove it with pulumi config rm ${key.includes(".") ? `--path '${key}'` : key}`,
  );
}

/** ` (did you mean "x"?)` for a key one or two edits (or only the case) away from a known one. */
function suggest(key: string, known: readonly string[]): string {
  const close = closest(key, known);
  return close ? ` (did you mean "${close}"?)` : "";
}

/** The settings of a resource's `host` input (undefined: the default host). */
export function hostSettings(settings: ProviderSettings, host: string | undefined): HostSettings {
  if (host === undefined || host === "" || host === "default") return settings.defaultHost;
  const found = settings.hosts[host];
  if (!found) {
    const known = Object.keys(settings.hosts);
    throw new ConfigError(
      `host "${host}" is not configured: ${known.length ? `known hosts are ${known.join(", ")}; ` : ""}add it with pulumi config set --path 'virtwire:hosts.${host}.uri' <libvirt URI>`,
    );
  }
  return found;
}
