/**
 * The command run on the remote host of an SSH transport, built exactly as libvirt's
 * `virNetClientSSHHelperCommand` (src/rpc/virnetclient.c) builds it, so that servers that restrict
 * the command (authorized_keys `command=`, ForceCommand wrappers) see what they expect:
 *
 *   proxy=native   sh -c 'virt-ssh-helper 'qemu:///system''
 *   proxy=netcat   sh -c 'if 'nc' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ARG=-q0;else ARG=;fi;'nc' $ARG -U /var/run/libvirt/libvirt-sock'
 *   proxy=auto     sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then     <native>; else    <netcat>; fi'
 *
 * The remote login shell removes one level of quoting and `sh -c` the other, so the netcat path
 * and the driver URI are shell-escaped twice; the socket path is inserted as it is (as libvirt
 * does).
 */
import { LibvirtUri, driverUri, isRemoteDriver } from "./uri";
import {
  SocketEnvironment,
  currentSocketEnvironment,
  remoteSocketPath,
  wantsSessionDaemon,
} from "./sockets";

export type SshProxy = "auto" | "netcat" | "native";

export interface RemoteCommandOptions {
  proxy: SshProxy;
  /** `netcat=`: the remote nc binary; undefined means `nc`. */
  netcat?: string;
  socketPath: string;
  /** The URI virt-ssh-helper opens on the remote host. */
  helperUri: string;
  readOnly: boolean;
}

/** Quotes like libvirt's virBufferEscapeShell: bare unless a shell metacharacter appears. */
export function escapeShell(value: string): string {
  if (value === "") return "''";
  if (!/[\r\t\n !"#$&'()*;<>?[\\\]^`{|}~]/.test(value)) return value;
  return `'${value.replace(/'/g, "'\\''")}'`;
}

export function remoteCommand(options: RemoteCommandOptions): string {
  let { proxy } = options;
  // A netcat path means the user wants the netcat proxy (parseLibvirtUri refuses it with native).
  if (proxy === "auto" && options.netcat !== undefined) proxy = "netcat";
  const netcat = escapeShell(escapeShell(options.netcat ?? "nc"));
  const helperUri = escapeShell(escapeShell(options.helperUri));
  const netcatCommand =
    `if '${netcat}' -q 2>&1 | grep "requires an argument" >/dev/null 2>&1; then ` +
    `ARG=-q0;else ARG=;fi;'${netcat}' $ARG -U ${options.socketPath}`;
  const helperCommand = `virt-ssh-helper${options.readOnly ? " -r " : " "}'${helperUri}'`;
  switch (proxy) {
    case "auto":
      return (
        `sh -c 'which virt-ssh-helper 1>/dev/null 2>&1; if test $? = 0; then ` +
        `    ${helperCommand}; else    ${netcatCommand}; fi'`
      );
    case "netcat":
      return `sh -c '${netcatCommand}'`;
    case "native":
      return `sh -c '${helperCommand}'`;
  }
}

/**
 * The proxy libvirt picks when `proxy=` is not given: netcat when `socket=` names the socket
 * (virt-ssh-helper cannot take one), native for the per-user session daemon, else auto.
 */
export function defaultProxy(uri: LibvirtUri, env: SocketEnvironment): SshProxy {
  if (uri.params.proxy) return uri.params.proxy as SshProxy;
  if (uri.params.socket) return "netcat";
  if (wantsSessionDaemon(uri, env)) return "native";
  return "auto";
}

/**
 * The URI virt-ssh-helper opens: `name=` if given, "" for the `remote` driver, else the driver URI
 * keeping the `mode` and `socket` parameters (libvirt's virtSshURI).
 */
export function helperUri(uri: LibvirtUri): string {
  if (uri.params.name !== undefined) return uri.params.name;
  if (isRemoteDriver(uri)) return "";
  return driverUri(uri, ["mode", "socket"]);
}

/** The remote command for a parsed SSH URI. */
export function remoteCommandFor(
  uri: LibvirtUri,
  readOnly: boolean,
  env = currentSocketEnvironment(),
): string {
  return remoteCommand({
    proxy: defaultProxy(uri, env),
    netcat: uri.params.netcat,
    socketPath: remoteSocketPath(uri, readOnly, env),
    helperUri: helperUri(uri),
    readOnly,
  });
}
