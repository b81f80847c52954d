/**
 * The QEMU program (src/remote/qemu_protocol.x): libvirt-qemu's calls, which pass raw QMP to the
 * domain's monitor or raw JSON to its guest agent. It shares the connection (and the serial space)
 * with REMOTE; only the header's program number differs. Its structs reuse REMOTE's basic types.
 */
import { int, struct, uint } from "../xdr";
import { Program, defineProcedures } from "./program";
import { RemoteNonnullDomain, RemoteNonnullString, RemoteString } from "./remote/types";

/** `QEMU_PROGRAM`, `QEMU_PROTOCOL_VERSION`. */
export const QemuProgram: Program = { name: "QEMU", number: 0x20008087, version: 1 };

export const QemuProcedures = defineProcedures(QemuProgram, {
  /**
   * QEMU_PROC_DOMAIN_MONITOR_COMMAND (1): `cmd` is QMP JSON (or HMP text with
   * DomainQemuMonitorCommandFlags.HMP); `result` is the monitor's whole reply. Taints the domain.
   */
  QemuDomainMonitorCommand: [
    1,
    struct({ dom: RemoteNonnullDomain, cmd: RemoteNonnullString, flags: uint }),
    struct({ result: RemoteNonnullString }),
  ],
  /**
   * QEMU_PROC_DOMAIN_AGENT_COMMAND (3): `cmd` is one guest agent command as JSON
   * (`{"execute":"guest-ping"}`), `timeout` seconds or a DomainQemuAgentCommandTimeout; `result`
   * is the agent's whole reply (`{"return":…}`). An error reply of the agent reaches the caller
   * as VIR_ERR_INTERNAL_ERROR carrying only its `desc`: libvirt drops the agent's error `class`.
   */
  QemuDomainAgentCommand: [
    3,
    struct({ dom: RemoteNonnullDomain, cmd: RemoteNonnullString, timeout: int, flags: uint }),
    struct({ result: RemoteString }),
  ],
});

export type QemuProcedures = typeof QemuProcedures;

/** `virDomainQemuAgentCommandTimeoutValues` (include/libvirt/libvirt-qemu.h); `MIN` is BLOCK. */
export enum DomainQemuAgentCommandTimeout {
  /** Wait for the reply for ever. */
  BLOCK = -2,
  /** libvirt's own agent timeout (5 s unless the domain sets another). */
  DEFAULT = -1,
  /** Do not wait for a reply. */
  NOWAIT = 0,
  SHUTDOWN = 60,
}

/** `virDomainQemuMonitorCommandFlags` */
export enum DomainQemuMonitorCommandFlags {
  DEFAULT = 0,
  /** `cmd` is a human monitor (HMP) command, not QMP. */
  HMP = 1,
}
