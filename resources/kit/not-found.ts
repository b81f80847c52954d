import { isNotFound } from "../../rpc";

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
