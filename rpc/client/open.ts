/**
 * The connection sequence libvirt's own client performs (remote_driver.c `doRemoteOpen`):
 *
 *   AUTH_LIST → authentication → SUPPORTS_FEATURE(PROGRAM_KEEPALIVE) → CONNECT_OPEN(name, flags)
 *   → SUPPORTS_FEATURE(REMOTE_EVENT_CALLBACK, REMOTE_CLOSE_CALLBACK, NETWORK_UPDATE_HAS_CORRECT_ORDER)
 *
 * Asking for keepalive makes the server send PINGs, which the Connection answers.
 */
import { DriverFeature, RemoteProcedures, VIR_CONNECT_RO } from "../protocol/remote";
import { AuthOptions, authenticate } from "./auth/negotiate";
import { callProcedure } from "./call";
import { Connection } from "./connection";

export interface ServerFeatures {
  keepalive: boolean;
  eventCallbacks: boolean;
  closeCallback: boolean;
  /** Whether NETWORK_UPDATE takes (command, section) in that order (libvirt ≥ 7.2). */
  networkUpdateHasCorrectOrder: boolean;
}

export interface OpenOptions extends AuthOptions {
  /** The URI sent in CONNECT_OPEN, without transport, host or client-side parameters. */
  name: string | null;
  readOnly?: boolean;
}

export async function openConnection(
  connection: Connection,
  options: OpenOptions,
): Promise<ServerFeatures> {
  await authenticate(connection, options);
  const keepalive = await supportsFeature(connection, DriverFeature.PROGRAM_KEEPALIVE);
  await callProcedure(connection, RemoteProcedures.ConnectOpen, {
    name: options.name,
    flags: options.readOnly ? VIR_CONNECT_RO : 0,
  });
  const [eventCallbacks, closeCallback, networkUpdateHasCorrectOrder] = await Promise.all([
    supportsFeature(connection, DriverFeature.REMOTE_EVENT_CALLBACK),
    supportsFeature(connection, DriverFeature.REMOTE_CLOSE_CALLBACK),
    supportsFeature(connection, DriverFeature.NETWORK_UPDATE_HAS_CORRECT_ORDER),
  ]);
  return { keepalive, eventCallbacks, closeCallback, networkUpdateHasCorrectOrder };
}

async function supportsFeature(connection: Connection, feature: DriverFeature): Promise<boolean> {
  const { supported } = await callProcedure(connection, RemoteProcedures.ConnectSupportsFeature, {
    feature,
  });
  return supported === 1;
}
