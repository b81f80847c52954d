/**
 * Errors as a Pulumi user reads them: what virtwire was doing, on which host, what libvirt said,
 * and libvirt's code — never a secret, never a stack of protocol internals.
 */
import {
  AuthError,
  CallTimeoutError,
  KeepaliveTimeoutError,
  LibvirtError,
  ProtocolError,
  StreamTimeoutError,
  XdrError,
} from "../rpc";
import { DeadlineKey, settingName } from "./config";

/** Rewrites an error thrown while `action` (e.g. "creating storage pool images") on `host`. */
export function describeError(error: unknown, action: string, host: string): Error {
  const failed = `${capitalize(action)}${host === "default" ? "" : ` on host ${host}`} failed`;
  if (!(error instanceof Error)) return new Error(`${failed}: ${String(error)}`);
  let reason = error.message;
  if (error instanceof LibvirtError) {
    reason = `${error.message} (${error.codeName}, ${error.domainName})`;
  } else if (error instanceof AuthError) {
    reason = `cannot log in to libvirt: ${error.message}`;
    // refresh and destroy use the provider settings the state holds, not the program's.
    if (/^(reading|deleting) /.test(action)) reason += STALE_SETTINGS;
  } else if (error instanceof CallTimeoutError) {
    reason =
      `libvirt did not answer ${error.procedure} within ${seconds(error.timeoutMs)}; the call ` +
      `was abandoned but may still complete on the host, so run pulumi refresh before retrying. ` +
      `Check libvirtd there (its log; a hung QEMU process or storage)${raise(error.option, host)}`;
  } else if (error instanceof StreamTimeoutError) {
    reason =
      `the ${error.procedure} stream waited ${seconds(error.timeoutMs)} for ${error.waitingFor} ` +
      `from libvirt and was aborted. Check libvirtd and the volume's storage on the host` +
      raise(error.option, host);
  } else if (error instanceof KeepaliveTimeoutError) {
    reason =
      `${error.message}. Check libvirtd on the host; if it is only slow to answer (a busy host ` +
      `or a slow link), raise ${settingName(host, "keepaliveInterval")} (seconds) or ` +
      `${settingName(host, "keepaliveCount")}`;
  } else if (error instanceof ProtocolError || error instanceof XdrError) {
    reason = `the libvirt daemon sent something virtwire cannot read (${error.message}); please report this with your libvirt version`;
  }
  return new Error(`${failed}: ${reason}`, { cause: error });
}

/** Why a login may fail only for refresh and destroy, and how to go on. */
const STALE_SETTINGS =
  ". If a password, key or host key changed since the stack was last updated, refresh and destroy " +
  "still use the old one from the state: run pulumi up first (it updates the provider), or " +
  "pulumi refresh --run-program / pulumi destroy --run-program, which take the program's settings";

const SETTINGS: Record<string, DeadlineKey> = {
  callTimeoutMs: "callTimeout",
  longCallTimeoutMs: "longCallTimeout",
  streamIdleTimeoutMs: "streamIdleTimeout",
};

/** `, or raise virtwire:callTimeout (seconds) …`: the stack config key behind a client option. */
function raise(option: string, host: string): string {
  const key = SETTINGS[option];
  return key
    ? `, or raise ${settingName(host, key)} (seconds) if it legitimately takes longer`
    : "";
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
