/**
 * The QEMU guest agent of one domain, through libvirt's QEMU_PROC_DOMAIN_AGENT_COMMAND: a command
 * goes as `{"execute": name, "arguments": {…}}`, the reply comes back as `{"return": value}`.
 * Files are read with guest-file-open / guest-file-read (`{"count", "buf-b64", "eof"}`) /
 * guest-file-close; nothing runs in the guest (no guest-exec).
 *
 * What libvirt makes of failures (src/qemu/qemu_agent.c, qemu_driver.c): no agent channel is
 * VIR_ERR_ARGUMENT_UNSUPPORTED; a channel nobody answers on yet, a sync or reply timeout
 * VIR_ERR_AGENT_UNRESPONSIVE (or AGENT_UNSYNCED); a domain not running OPERATION_INVALID; and an
 * error reply of the agent itself (a file that does not exist) VIR_ERR_INTERNAL_ERROR with the
 * agent's `desc` as message. libvirt drops the agent's error `class` (qemu-ga gives GenericError
 * for a missing file anyway), so callers can tell "the agent answered no" only by INTERNAL_ERROR.
 */
import { ErrorCode, hasErrorCode } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";

/** Seconds libvirt waits for each reply: TCG guests that are busy booting answer slowly. */
const REPLY_SECONDS = 10;
/** Bytes asked for per guest-file-read. */
const READ_CHUNK = 65536;

/** The agent answered, but not with what the protocol promises. */
export class GuestAgentReplyError extends Error {
  override name = "GuestAgentReplyError";
}

/** The one Libvirt method the agent needs, so tests can stand in for a guest. */
export type AgentTransport = Pick<Libvirt, "QemuDomainAgentCommand">;

export class GuestAgent {
  constructor(
    private readonly lv: AgentTransport,
    private readonly dom: RemoteNonnullDomain,
  ) {}

  /** Runs one command and returns its `return` value. */
  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const cmd = JSON.stringify(args ? { execute: command, arguments: args } : { execute: command });
    const { result } = await this.lv.QemuDomainAgentCommand({
      dom: this.dom,
      cmd,
      timeout: REPLY_SECONDS,
      flags: 0,
    });
    let reply: unknown;
    try {
      reply = JSON.parse(result ?? "");
    } catch {
      throw new GuestAgentReplyError(`the guest agent's reply to ${command} is not JSON`);
    }
    if (typeof reply !== "object" || reply === null || !("return" in reply)) {
      throw new GuestAgentReplyError(`the guest agent's reply to ${command} has no "return"`);
    }
    return reply.return;
  }

  /**
   * Which commands the agent offers and whether each is enabled (guest-info): an agent started
   * with --block-rpcs, as some distributions ship it, still lists blocked commands, as disabled.
   */
  async commands(): Promise<Map<string, boolean>> {
    const info = (await this.execute("guest-info")) as {
      supported_commands?: { name?: unknown; enabled?: unknown }[];
    };
    const commands = new Map<string, boolean>();
    for (const entry of info?.supported_commands ?? []) {
      if (typeof entry.name === "string") commands.set(entry.name, entry.enabled !== false);
    }
    return commands;
  }

  /**
   * A whole file of the guest, up to `maxBytes` (more is refused, not cut off), or undefined when
   * the agent refuses to open it: for an agent running as root, because it does not exist.
   */
  async readFileIfExists(path: string, maxBytes: number): Promise<Buffer | undefined> {
    let handle: unknown;
    try {
      handle = await this.execute("guest-file-open", { path, mode: "r" });
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.INTERNAL_ERROR)) return undefined;
      throw error;
    }
    if (typeof handle !== "number") {
      throw new GuestAgentReplyError(`guest-file-open of ${path} returned no handle`);
    }
    try {
      const chunks: Buffer[] = [];
      let size = 0;
      for (;;) {
        const chunk = (await this.execute("guest-file-read", { handle, count: READ_CHUNK })) as {
          "buf-b64"?: unknown;
          eof?: unknown;
        };
        const data = Buffer.from(String(chunk?.["buf-b64"] ?? ""), "base64");
        chunks.push(data);
        size += data.length;
        if (size > maxBytes) {
          throw new GuestAgentReplyError(`${path} in the guest is larger than ${maxBytes} bytes`);
        }
        if (chunk?.eof === true || data.length === 0) return Buffer.concat(chunks);
      }
    } finally {
      // A handle left open costs the agent little; a failure to close must not hide the result.
      await this.execute("guest-file-close", { handle }).catch(() => undefined);
    }
  }
}
