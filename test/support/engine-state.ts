/**
 * The state that the step model of engine.ts keeps, shaped like the `resources` of a Pulumi
 * checkpoint: one entry per resource (urn, type, id, inputs, outputs, initErrors, and `delete` for a
 * replaced resource still waiting to be deleted). Secrets are stored the way Pulumi stores them,
 * `{ "4dabf…": "1b47…", "ciphertext": … }`, here AES-256-GCM under a key that lives only in this
 * object, so any plaintext secret found in `json()` is a real leak (an output under another name, a
 * value baked into `__provider`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { PropertyMap, PropertyValue, secret, SECRET_SIG, SIG_KEY } from "./pulumi-wire";

export interface StateEntry {
  urn: string;
  type: string;
  custom: true;
  id: string;
  inputs: PropertyMap;
  outputs: PropertyMap;
  additionalSecretOutputs?: string[];
  /** Set by a partial create or update; the next up updates the resource even without a diff. */
  initErrors?: string[];
  /** A replaced resource whose delete has not happened (or failed). */
  delete?: true;
  /** Read with `get`: tracked, never deleted. */
  external?: true;
}

export interface EngineState {
  resources: StateEntry[];
}

export class Checkpoint {
  private readonly key = randomBytes(32);
  private readonly entries: StateEntry[] = [];

  /** The state as stored (secrets encrypted), as JSON text. */
  json(): string {
    return JSON.stringify({ resources: this.entries } satisfies EngineState);
  }

  /** The live (not pending-delete) resource with this URN, secrets decrypted. */
  get(urn: string): StateEntry | undefined {
    const entry = this.entries.find((e) => e.urn === urn && !e.delete);
    return entry && this.decryptEntry(entry);
  }

  /** Every entry in order of creation, secrets decrypted. */
  list(): StateEntry[] {
    return this.entries.map((entry) => this.decryptEntry(entry));
  }

  /** Stores the live resource of its URN, replacing the previous one. */
  put(resource: StateEntry): void {
    const stored = this.encryptEntry(resource);
    const index = this.entries.findIndex((e) => e.urn === resource.urn && !e.delete);
    if (index >= 0) this.entries[index] = stored;
    else this.entries.push(stored);
  }

  /** Marks the live resource of a URN as replaced: it waits for deletion (create-before-delete). */
  markPendingDelete(urn: string): void {
    const entry = this.entries.find((e) => e.urn === urn && !e.delete);
    if (entry) entry.delete = true;
  }

  /** Removes the live entry of a URN, or its oldest pending delete. */
  remove(urn: string, pendingDelete = false): void {
    const index = this.entries.findIndex((e) => e.urn === urn && !!e.delete === pendingDelete);
    if (index >= 0) this.entries.splice(index, 1);
  }

  private encryptEntry(entry: StateEntry): StateEntry {
    const seal = (sentinel: PropertyMap) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", this.key, iv);
      const body = Buffer.concat([cipher.update(JSON.stringify(sentinel.value)), cipher.final()]);
      const ciphertext = Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
      return { [SIG_KEY]: SECRET_SIG, ciphertext };
    };
    return {
      ...entry,
      inputs: mapSecrets(entry.inputs, seal),
      outputs: mapSecrets(entry.outputs, seal),
    };
  }

  private decryptEntry(entry: StateEntry): StateEntry {
    const open = (stored: PropertyMap) => {
      const raw = Buffer.from(String(stored.ciphertext), "base64");
      const decipher = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const text = Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString();
      return secret(JSON.parse(text));
    };
    return {
      ...entry,
      inputs: mapSecrets(entry.inputs, open),
      outputs: mapSecrets(entry.outputs, open),
    };
  }
}

/** Applies `f` to every secret sentinel object in `props`, returning a new map. */
function mapSecrets(props: PropertyMap, f: (sentinel: PropertyMap) => PropertyValue): PropertyMap {
  const walk = (value: PropertyValue): PropertyValue => {
    if (typeof value !== "object" || value === null) return value;
    if (Array.isArray(value)) return value.map(walk);
    if (value[SIG_KEY] === SECRET_SIG) return f(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
  };
  return walk(props) as PropertyMap;
}
