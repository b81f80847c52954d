/**
 * The ssh2 package, loaded on first use: loading it costs 0.05–0.15 s, and only ssh URIs
 * (qemu+ssh://, libssh, libssh2) and SSH private keys need it. Each user keeps its own unexported
 * `const ssh2 = () => loadSsh2<typeof Ssh2>()`: an exported function typed with ssh2's types would
 * put them into the published declarations, and @types/ssh2 is a development dependency.
 */
let loaded: unknown;

export function loadSsh2<T>(): T {
  // A static import would load it with the module; require() here is the deferred load.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (loaded ??= require("ssh2")) as T;
}
