/**
 * Errors as a Pulumi user reads them: what virtwire was doing, on which host, what libvirt said,
 * and libvirt's code — never a secret, never a stack of protocol internals.
 */
import { AuthError, LibvirtError, ProtocolError, XdrError, isNotFound } from "../rpc";

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
  const failed = `${capitalize(action)}${host === "default" ? "" : ` on host ${host}`} failed`;
  if (!(error instanceof Error)) return new Error(`${failed}: ${String(error)}`);
  let reason = error.message;
  if (error instanceof LibvirtError) {
    reason = `${error.message} (${error.codeName}, ${error.domainName})`;
  } else if (error instanceof AuthError) {
    reason = `cannot log in to libvirt: ${error.message}`;
  } else if (error instanceof ProtocolError || error instanceof XdrError) {
    reason = `the libvirt daemon sent something virtwire cannot read (${error.message}); please report this with your libvirt version`;
  }
  return new Error(`${failed}: ${reason}`, { cause: error });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
