/**
 * What the Pulumi engine and a provider plugin exchange, encoded as the engine does
 * (pulumi-dynamic-providers.md §3, §6.1): property maps are `google.protobuf.Struct`s in which a
 * secret is the object `{ "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
 * value }` and an unknown (preview only) is the string `04da6b54-80e4-46f7-96ec-b56ff0331ba9`;
 * failed calls carry a `google.rpc.Status`, partial failures an `ErrorResourceInitFailed` in it.
 *
 * The harness keeps values in that same JSON form: a secret is the sentinel object, made with
 * `secret(x)` and recognised with `isSecret(v)`; an unknown is the `UNKNOWN` string.
 */
import { Metadata, ServiceError } from "@grpc/grpc-js";
import { ErrorResourceInitFailed } from "@pulumi/pulumi/proto/provider_pb";
import { Status } from "@pulumi/pulumi/proto/status_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";

/** `resource.SigKey`: the key that marks an object as a special value. */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
/** `resource.SecretSig`: the signature of a secret. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** `plugin.UnknownStringValue`: an unknown value, sent only when unknowns are kept (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export type PropertyValue = null | boolean | number | string | PropertyValue[] | PropertyMap;
export interface PropertyMap {
  [key: string]: PropertyValue;
}

export interface MarshalOptions {
  /** `KeepSecrets`: send secrets as sentinels; otherwise as their plain value. */
  keepSecrets: boolean;
  /** `KeepUnknowns`: send unknowns as the sentinel string; otherwise leave them out. */
  keepUnknowns: boolean;
}

/** The engine's `resource.MakeSecret`. */
export function secret(value: PropertyValue): PropertyMap {
  return { [SIG_KEY]: SECRET_SIG, value };
}

export function isSecret(value: unknown): value is { value: PropertyValue } {
  return isObject(value) && value[SIG_KEY] === SECRET_SIG;
}

function isObject(value: unknown): value is PropertyMap {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object that is neither a secret nor any other signed value (asset, archive, reference). */
function isPlainObject(value: unknown): value is PropertyMap {
  return isObject(value) && !(SIG_KEY in value);
}

export function containsSecrets(value: PropertyValue | undefined): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecrets);
  if (isObject(value)) return Object.values(value).some(containsSecrets);
  return false;
}

export function containsUnknowns(value: PropertyValue | undefined): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(containsUnknowns);
  if (isObject(value)) return Object.values(value).some(containsUnknowns);
  return false;
}

/** The value with every secret replaced by its plain value (for assertions in tests). */
export function reveal<T extends PropertyValue | undefined>(value: T): T;
export function reveal(value: PropertyValue | undefined): PropertyValue | undefined {
  if (isSecret(value)) return reveal(value.value);
  if (Array.isArray(value)) return value.map((element) => reveal(element));
  if (isObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
  }
  return value;
}

/** Deep equality of property values, ignoring the order of object keys. */
export function sameValue(a: PropertyValue | undefined, b: PropertyValue | undefined): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: PropertyValue | undefined): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "undefined";
}

/** `MarshalPropertyValue`: undefined means "leave out" (a dropped unknown). */
function marshalValue(value: PropertyValue, options: MarshalOptions): PropertyValue | undefined {
  if (value === UNKNOWN) return options.keepUnknowns ? UNKNOWN : undefined;
  if (isSecret(value)) {
    const inner = marshalValue(value.value, options);
    if (inner === undefined || !options.keepSecrets) return inner;
    return secret(inner);
  }
  if (Array.isArray(value)) {
    return value
      .map((element) => marshalValue(element, options))
      .filter((element) => element !== undefined);
  }
  if (isObject(value)) return marshalMap(value, options);
  return value;
}

function marshalMap(props: PropertyMap, options: MarshalOptions): PropertyMap {
  const result: PropertyMap = {};
  for (const key of Object.keys(props).sort()) {
    const value = props[key];
    if (value === undefined) continue;
    const marshalled = marshalValue(value, options);
    if (marshalled !== undefined) result[key] = marshalled;
  }
  return result;
}

/** `MarshalProperties`: always a Struct, `{}` included (the plugin relies on it for `olds`). */
export function marshalProperties(props: PropertyMap | undefined, options: MarshalOptions): Struct {
  return Struct.fromJavaScript(marshalMap(props ?? {}, options) as Record<string, never>);
}

function unmarshalValue(value: PropertyValue, keepUnknowns: boolean, label: string): PropertyValue {
  if (value === UNKNOWN && !keepUnknowns) {
    throw new Error(`${label}: the plugin returned an unknown value outside a preview`);
  }
  if (isSecret(value)) return secret(unmarshalValue(value.value, keepUnknowns, label));
  if (Array.isArray(value)) return value.map((v) => unmarshalValue(v, keepUnknowns, label));
  if (isObject(value)) {
    const result: PropertyMap = {};
    for (const [k, v] of Object.entries(value)) result[k] = unmarshalValue(v, keepUnknowns, label);
    return result;
  }
  return value;
}

/**
 * `UnmarshalProperties` with `KeepSecrets` (results always keep secret sentinels), and unknowns
 * kept in a preview and rejected otherwise (`RejectUnknowns`).
 */
export function unmarshalProperties(
  struct: Struct | undefined,
  keepUnknowns: boolean,
  label: string,
): PropertyMap {
  if (!struct) return {};
  return unmarshalValue(struct.toJavaScript() as PropertyMap, keepUnknowns, label) as PropertyMap;
}

/**
 * The engine's `annotateSecrets(outs, ins)` for plugins that do not accept secrets: an output
 * whose input of the same key contains a secret becomes secret; two plain objects are compared
 * key by key, anything else (an array, say) is marked whole. Mutates and returns `outs`.
 */
export function annotateSecrets(outs: PropertyMap, ins: PropertyMap | undefined): PropertyMap {
  if (!ins) return outs;
  for (const [key, inValue] of Object.entries(ins)) {
    const outValue = outs[key];
    if (outValue === undefined) continue;
    if (isPlainObject(outValue) && isPlainObject(inValue)) {
      annotateSecrets(outValue, inValue);
    } else if (!isSecret(outValue) && containsSecrets(inValue)) {
      outs[key] = secret(outValue);
    }
  }
  return outs;
}

/** Go's `%v` of a float64: shortest digits, exponent form below 1e-4 and from 1e+06 on. */
function goFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value === 0) return "0";
  const [mantissa, exponentText] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent >= -4 && exponent < 6) return String(value);
  const digits = String(Math.abs(exponent)).padStart(2, "0");
  return `${mantissa}e${exponent < 0 ? "-" : "+"}${digits}`;
}

/** Go's `%v` of a property value's inner value (`PropertyValue.V`). */
function goInner(value: PropertyValue): string {
  if (value === null) return "<nil>";
  if (isSecret(value)) return "[secret]";
  if (typeof value === "number") return goFloat(value);
  if (typeof value === "string" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map(renderPropertyValue).join(" ")}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${key}:${renderPropertyValue(value[key] as PropertyValue)}`);
  return `map[${entries.join(" ")}]`;
}

/**
 * A property value as the engine prints it in check-failure messages (`PropertyValue.String()`:
 * `{<value>}`, `output<string>{}` for an unknown, `{<nil>}` for a missing value), with secrets
 * masked as `[secret]`.
 */
export function renderPropertyValue(value: PropertyValue | undefined): string {
  if (value === undefined) return "{<nil>}";
  if (value === UNKNOWN) return "output<string>{}";
  return `{${goInner(value)}}`;
}

/** An RPC the plugin answered with an error status. */
export class PluginCallError extends Error {
  override name = "PluginCallError";
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`${method}: ${details} (gRPC status ${code})`);
  }
}

/**
 * A create or update that failed after the resource came to exist (`ErrorResourceInitFailed`):
 * the engine keeps it in state with `initErrors` = `reasons`.
 */
export class ResourceInitError extends Error {
  override name = "ResourceInitError";
  constructor(
    message: string,
    readonly id: string,
    readonly properties: PropertyMap,
    readonly reasons: string[],
  ) {
    super(message);
  }
}

export interface CheckFailure {
  property: string;
  reason: string;
}

export interface DiffResult {
  changes: "none" | "some" | "unknown";
  replaces: string[];
  stables: string[];
  /** `DiffResponse.diffs`: the changed keys. */
  changedKeys: string[];
  deleteBeforeReplace: boolean;
  hasDetailedDiff: boolean;
}

/**
 * An RPC error as the engine's `parseError` sees it: a `google.rpc.Status` in the
 * `grpc-status-details-bin` trailer holding `pulumirpc.ErrorResourceInitFailed` is a partial
 * failure (`ResourceInitError`); anything else is a plain `PluginCallError`.
 */
export function decodeError(method: string, error: ServiceError): Error {
  const [detailsBin] = (error.metadata ?? new Metadata()).get("grpc-status-details-bin");
  if (detailsBin instanceof Buffer) {
    const rpcStatus = Status.deserializeBinary(new Uint8Array(detailsBin));
    for (const detail of rpcStatus.getDetailsList()) {
      const initFailed = detail.unpack(
        ErrorResourceInitFailed.deserializeBinary,
        "pulumirpc.ErrorResourceInitFailed",
      );
      if (!initFailed) continue;
      return new ResourceInitError(
        rpcStatus.getMessage(),
        initFailed.getId(),
        unmarshalProperties(initFailed.getProperties(), false, method),
        initFailed.getReasonsList(),
      );
    }
  }
  return new PluginCallError(method, error.code, error.details);
}
