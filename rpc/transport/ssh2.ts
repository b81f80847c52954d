/**
 * The ssh2 package, loaded on first use: loading it costs 0.05–0.15 s, and only ssh URIs
 * (qemu+ssh://, libssh, libssh2) and SSH private keys need it.
 */
import type * as Ssh2 from "ssh2";

let loaded: typeof Ssh2 | undefined;

export function ssh2(): typeof Ssh2 {
  // A static import would load it with the module; require() here is the deferred load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require("ssh2") as typeof Ssh2);
}
