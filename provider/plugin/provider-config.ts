/**
 * The provider's own configuration on the plugin path: the same keys as `virtwire:` stack config
 * (schema.json `config`), whether they come from the stack config (the default provider) or from a
 * `new virtwire.Provider(name, args)` (an explicit one). The engine hands them over three times:
 *
 *   CheckConfig  the inputs (`uri`, `password`, … without the package prefix), secrets as plain
 *                values (it restores their secretness itself afterwards)
 *   DiffConfig   old and new inputs, to decide whether the provider, and so every resource of it,
 *                is replaced: never for virtwire (a changed credential, host key pin or URI is
 *                used by the next operation of every resource, deletes included)
 *   Configure    `variables`: `virtwire:config:<key>` → text (JSON for anything not a string)
 *
 * Every message names a key, never its value.
 */
import { UNKNOWN } from "../../resources/kit/check";
import { deepEqual } from "../../resources/kit/diff";
import { ConfigError, ConfigSource, readSettings } from "../config";

type Props = Record<string, unknown>;

/** Inputs the engine adds to every provider's that are not virtwire settings. */
const ENGINE_KEYS = new Set(["version", "pluginDownloadURL"]);

/** A ConfigSource for readSettings: `virtwire:<key>` → text; unknown keys are refused there. */
export function configSource(values: Record<string, string>): ConfigSource {
  const rawConfig = { ...values };
  return { get: (key) => rawConfig[key], rawConfig } as ConfigSource;
}

/** ConfigureRequest's variables (`virtwire:config:uri`) as `virtwire:uri` keys. */
export function fromVariables(variables: Iterable<[string, string]>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of variables) {
    const [pkg, ...rest] = key.split(":");
    const name = rest[0] === "config" ? rest.slice(1).join(":") : rest.join(":");
    if (ENGINE_KEYS.has(name)) continue;
    values[`${pkg}:${name}`] = value;
  }
  return values;
}

/** Provider inputs (`uri`, `hosts` as an object or JSON text, numbers) as `virtwire:<key>` text. */
export function fromInputs(inputs: Props): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(inputs)) {
    if (ENGINE_KEYS.has(key) || value === undefined || value === null) continue;
    values[`virtwire:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return values;
}

/**
 * CheckConfig: the settings as readSettings takes them, or why not, as one failure. A value not
 * known yet (preview, from another resource's output) is checked once it is known, at Configure.
 */
export function checkConfig(news: Props): { property: string; reason: string }[] {
  if (Object.values(news).some((value) => value === UNKNOWN)) return [];
  try {
    readSettings(configSource(fromInputs(news)));
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [{ property: "", reason: error.message }];
    throw error;
  }
}

/**
 * DiffConfig: which settings changed. No change replaces the provider: connection settings and
 * credentials say how to reach the objects, not which objects they are (a resource's `host` input
 * is what moves it), so the resources are kept and the next operation uses the new settings.
 */
export function diffConfig(olds: Props, news: Props): { changed: string[] } {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  const changed = [...keys].filter(
    (key) => !ENGINE_KEYS.has(key) && (news[key] === UNKNOWN || !deepEqual(olds[key], news[key])),
  );
  return { changed: changed.sort() };
}
