/**
 * Errors as a Pulumi user reads them: what virtwire was doing, on which host, what libvirt said,
 * and libvirt's code — never a secret, never a stack of protocol internals.
 */
import {
  AuthError,
  ConnectionClosedError,
  LibvirtError,
  ProtocolError,
  UriError,
  XdrError,
  isNotFound,
} from "../rpc";
import { ConfigError } from "./config";

/**
 * What `work` returns, or undefined when libvirt says the object it works on no longer exists;
 * any other error is thrown. For lookups by id, and deletes that find the object gone.
 */
export async function unlessNotFound<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Rewrites an error thrown while `action` (e.g. "creating storage pool images") on `host`. */
export function describeError(error: unknown, action: string, host: string): Error {
  const where = host === "default" ? "" : ` on host ${host}`;
  if (error instanceof LibvirtError) {
    return new Error(
      `${capitalize(action)}${where} failed: ${error.message} (${error.codeName}, ${error.domainName})`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof AuthError) {
    return new Error(
      `${capitalize(action)}${where} failed: cannot log in to libvirt: ${error.message}`,
      { cause: error },
    );
  }
  if (error instanceof ConnectionClosedError) {
    return new Error(`${capitalize(action)}${where} failed: ${error.message}`, { cause: error });
  }
  if (error instanceof UriError || error instanceof ConfigError) {
    return new Error(`${capitalize(action)}${where} failed: ${error.message}`, { cause: error });
  }
  if (error instanceof ProtocolError || error instanceof XdrError) {
    return new Error(
      `${capitalize(action)}${where} failed: the libvirt daemon sent something virtwire cannot read (${error.message}); please report this with your libvirt version`,
      { cause: error },
    );
  }
  if (error instanceof Error) {
    return new Error(`${capitalize(action)}${where} failed: ${error.message}`, { cause: error });
  }
  return new Error(`${capitalize(action)}${where} failed: ${String(error)}`);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
