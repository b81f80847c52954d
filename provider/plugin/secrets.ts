/**
 * Outputs that schema.json marks `secret: true` (a Domain's `graphicsPassword`), sent back to the
 * engine as secrets. The engine keeps the secretness of a response's values whatever the provider
 * said at Configure, but restores it from a request only where the request had it: a `pulumi
 * import`, a Go or YAML `get` and a refresh after either have none, and would store the value in
 * plain text.
 */
import { schema } from "../../resources/kit/generated/schema";
import { kindOf } from "./resources";

type Props = Record<string, unknown>;

/** The wire form of a secret value (sdk/proto: the "secret" special signature). */
const SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** `props` with every property the kind's schema marks secret wrapped as a secret. */
export function withSecrets(urn: string, props: Props, which: "inputs" | "outputs"): Props {
  const kind = kindOf(urn);
  const resource = kind ? schema.resources[`virtwire:index:${kind}`] : undefined;
  const declared = which === "inputs" ? resource?.inputProperties : resource?.properties;
  if (!declared) return props;
  const marked: Props = { ...props };
  for (const [name, property] of Object.entries(declared)) {
    const value = marked[name];
    if (!property.secret || value === undefined || value === null || isSecret(value)) continue;
    marked[name] = { [SIGNATURE_KEY]: SECRET_SIGNATURE, value };
  }
  return marked;
}

function isSecret(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Props)[SIGNATURE_KEY] === SECRET_SIGNATURE
  );
}
