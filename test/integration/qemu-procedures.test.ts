/**
 * The QEMU program (libvirt-qemu) against the test bed daemon: monitor commands on a running
 * guest, and the guest agent's failures that need no agent in the guest, told apart by code.
 */
import {
  DomainQemuAgentCommandTimeout,
  DomainQemuMonitorCommandFlags,
  ErrorCode,
  Libvirt,
  LibvirtError,
  RemoteNonnullDomain,
} from "../../rpc";
import { DomainUndefineFlags } from "../../rpc/protocol/remote";
import { rejection } from "../support/promises";
import { connectTestbed, recordedNames } from "../support/testbed";

jest.setTimeout(60_000);

const AGENT_CHANNEL = `<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>`;
const ping = JSON.stringify({ execute: "guest-ping" });

/** A guest without a kernel to boot: it sits in the BIOS, so no agent ever answers. */
function idleGuestXml(name: string, devices = ""): string {
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>${devices}</devices>
</domain>`;
}

describe("the QEMU procedures against the test bed daemon", () => {
  let lv: Libvirt;
  const { name, names: created } = recordedNames();

  beforeAll(async () => {
    lv = await connectTestbed();
  });

  afterAll(async () => {
    for (const domain of created) {
      const found = await lv.DomainLookupByName({ name: domain }).catch(() => null);
      if (!found) continue;
      await lv.DomainDestroy(found).catch(() => undefined);
      await lv
        .DomainUndefineFlags({ ...found, flags: DomainUndefineFlags.MANAGED_SAVE })
        .catch(() => undefined);
    }
    await lv.close();
  });

  const startTransient = async (devices = ""): Promise<RemoteNonnullDomain> =>
    (await lv.DomainCreateXML({ xml_desc: idleGuestXml(name("qemu"), devices), flags: 0 })).dom;

  const agentError = async (dom: RemoteNonnullDomain): Promise<LibvirtError> => {
    const timeout = DomainQemuAgentCommandTimeout.NOWAIT;
    const error = await rejection(lv.QemuDomainAgentCommand({ dom, cmd: ping, timeout, flags: 0 }));
    expect(error).toBeInstanceOf(LibvirtError);
    return error as LibvirtError;
  };

  it("runs a QMP command on the monitor and returns QEMU's reply", async () => {
    const dom = await startTransient();
    const { result } = await lv.QemuDomainMonitorCommand({
      dom,
      cmd: JSON.stringify({ execute: "query-status" }),
      flags: DomainQemuMonitorCommandFlags.DEFAULT,
    });
    expect(JSON.parse(result)).toMatchObject({ return: { status: "running", running: true } });
  });

  it("runs a human monitor command with the HMP flag", async () => {
    const dom = await startTransient();
    const { result } = await lv.QemuDomainMonitorCommand({
      dom,
      cmd: "info status",
      flags: DomainQemuMonitorCommandFlags.HMP,
    });
    expect(result).toMatch(/running/);
  });

  it("refuses an agent command with ARGUMENT_UNSUPPORTED when the domain has no agent channel", async () => {
    const error = await agentError(await startTransient());
    expect(error.code).toBe(ErrorCode.ARGUMENT_UNSUPPORTED);
  });

  it("fails an agent command with AGENT_UNRESPONSIVE while no agent listens on the channel", async () => {
    const error = await agentError(await startTransient(AGENT_CHANNEL));
    expect(error.code).toBe(ErrorCode.AGENT_UNRESPONSIVE);
  });

  it("refuses an agent command with OPERATION_INVALID when the domain is shut off", async () => {
    const { dom } = await lv.DomainDefineXML({ xml: idleGuestXml(name("qemu"), AGENT_CHANNEL) });
    const error = await agentError(dom);
    expect(error.code).toBe(ErrorCode.OPERATION_INVALID);
  });
});
