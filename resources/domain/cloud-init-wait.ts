/**
 * The wait for cloud-init (waitForCloudInit): poll the guest through the QEMU guest agent until
 * cloud-init has finished, then fail on the errors it reports; when the time is up, say why not.
 * Meanwhile, every STATUS_MS, a status line says how long it has waited and what the guest shows.
 *
 * cloud-init's own files (cloudinit/cmd/main.py status_wrapper), under /run, so nothing of an
 * earlier boot counts:
 *   /run/cloud-init/status.json  {"v1": {"stage": "init" | … | null, "datasource": "DataSource…"
 *                                 | null, "init-local": {"start", "finished", "errors": […]}, …}}
 *                                written when each stage starts and ends
 *   /run/cloud-init/result.json  {"v1": {"datasource": …, "errors": [all stages' errors]}}
 *                                written once, at the end of the last stage (modules-final)
 *   /run/cloud-init/disabled     written by cloud-init's systemd generator when ds-identify found
 *                                no datasource (or cloud-init is turned off): it will not run
 */
import { ErrorCode, LibvirtError, hasErrorCode } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { GuestAgent } from "./guest-agent";
import { sleep } from "../kit/sleep";
import { domainState, isRunningState, stateName } from "./power";

const RESULT = "/run/cloud-init/result.json";
const STATUS = "/run/cloud-init/status.json";
const DISABLED = "/run/cloud-init/disabled";
/** The agent commands the wait uses, all of which some images' agents block by default. */
const FILE_COMMANDS = ["guest-file-open", "guest-file-read", "guest-file-close"];
/** cloud-init's stages in the order they run (the keys of status.json's v1). */
const STAGES = ["init-local", "init", "modules-config", "modules-final"];
const POLL_MS = 2000;
const STATUS_MS = 10_000;
const MAX_FILE_BYTES = 1024 * 1024;
/** Errors quoted in a failure, and characters of each: enough to act on, not a whole log. */
const MAX_ERRORS = 5;
const MAX_ERROR_CHARS = 300;

/** What the wait asks libvirt: the agent, and the power state (a guest that stops ends the wait). */
export type CloudInitHost = Pick<Libvirt, "QemuDomainAgentCommand" | "DomainGetState">;

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface CloudInitWaitOptions {
  timeoutSeconds: number;
  /** A NoCloud seed is attached: finishing without a datasource then means it went unread. */
  seedAttached: boolean;
  clock?: Clock;
  /** Where progress goes (ResourceContext.status). */
  status?: (line: string) => void;
}

/** Why the wait failed, said for the user. */
export class CloudInitWaitError extends Error {
  override name = "CloudInitWaitError";
}

interface Progress {
  stage: string | null;
  finished: string[];
  datasource: string | null;
  errors: string[];
}

type Observation =
  | { kind: "finished"; datasource: string | null; errors: string[] }
  | { kind: "running"; progress: Progress }
  | { kind: "not-started" }
  | { kind: "no-answer"; error: LibvirtError };

/**
 * Polls until /run/cloud-init/result.json exists; returns how long that took and the datasource.
 * Fails on errors cloud-init reports, when the domain stops, or after `timeoutSeconds` with a
 * diagnosis; at once when waiting cannot help (no agent channel, file commands blocked, cloud-init
 * disabled in the guest).
 */
export async function waitForCloudInit(
  lv: CloudInitHost,
  dom: RemoteNonnullDomain,
  options: CloudInitWaitOptions,
): Promise<{ elapsedMs: number; datasource: string | null }> {
  const clock = options.clock ?? { now: () => Date.now(), sleep };
  const watch = new CloudInitWatch(new GuestAgent(lv, dom));
  const started = clock.now();
  const deadline = started + options.timeoutSeconds * 1000;
  let answered: Observation | undefined;
  let nextStatus = started;
  for (;;) {
    const seen = await watch.observe();
    if (seen.kind === "finished") {
      checkResult(seen.datasource, seen.errors, options.seedAttached);
      return { elapsedMs: clock.now() - started, datasource: seen.datasource };
    }
    if (seen.kind !== "no-answer") answered = seen;
    const state = await domainState(lv, dom);
    if (!isRunningState(state)) {
      throw new CloudInitWaitError(
        `the domain stopped (state ${stateName(state)}) while waiting for cloud-init to finish; its console log may say why`,
      );
    }
    const now = clock.now();
    if (now >= deadline) {
      throw new CloudInitWaitError(
        `cloud-init did not finish within ${options.timeoutSeconds} s (waitForCloudInit.timeout): ${diagnose(seen, answered)}`,
      );
    }
    if (now >= nextStatus) {
      const waited = `${Math.floor((now - started) / 1000)} s of ${options.timeoutSeconds} s`;
      options.status?.(`waiting for cloud-init, ${waited}: ${observed(seen)}`);
      nextStatus = now + STATUS_MS;
    }
    await clock.sleep(POLL_MS);
  }
}

/** One look at the guest per poll; the agent's file commands are checked once it first answers. */
class CloudInitWatch {
  private commandsChecked = false;

  constructor(private readonly agent: GuestAgent) {}

  async observe(): Promise<Observation> {
    try {
      if (!this.commandsChecked) {
        await this.checkFileCommands();
        this.commandsChecked = true;
      }
      const result = await this.readJson(RESULT);
      if (result !== undefined) return { kind: "finished", ...parseResult(result) };
      const status = await this.readJson(STATUS);
      if (status !== undefined) return { kind: "running", progress: parseStatus(status) };
      if (await this.agent.readFileIfExists(DISABLED, MAX_FILE_BYTES)) {
        throw new CloudInitWaitError(
          `cloud-init is disabled in the guest for this boot (${DISABLED}): its ds-identify found no datasource, so no NoCloud seed was seen — set the Domain's cloudInitDisk (an ISO labelled cidata, e.g. a CloudInitDisk's path) — or cloud-init is turned off (/etc/cloud/cloud-init.disabled, cloud-init=disabled on the kernel command line)`,
        );
      }
      return { kind: "not-started" };
    } catch (error) {
      if (hasErrorCode(error, ErrorCode.ARGUMENT_UNSUPPORTED)) {
        throw new CloudInitWaitError(
          "the domain has no guest agent channel, through which cloud-init's result is read: set qemuAgent: true",
          { cause: error },
        );
      }
      if (isTransient(error)) return { kind: "no-answer", error };
      throw error;
    }
  }

  private async checkFileCommands(): Promise<void> {
    const commands = await this.agent.commands();
    const blocked = FILE_COMMANDS.filter((name) => commands.get(name) !== true);
    if (blocked.length > 0) {
      throw new CloudInitWaitError(
        `the guest agent does not allow ${blocked.join(", ")}, with which waitForCloudInit reads ${RESULT}: allow ${FILE_COMMANDS.join(", ")} in the guest's qemu-guest-agent configuration (its --block-rpcs / --allow-rpcs, e.g. in /etc/sysconfig/qemu-ga)`,
      );
    }
  }

  private async readJson(path: string): Promise<unknown> {
    const bytes = await this.agent.readFileIfExists(path, MAX_FILE_BYTES);
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(bytes.toString("utf8"));
    } catch {
      throw new CloudInitWaitError(`${path} in the guest is not JSON`);
    }
  }
}

/**
 * Failures that time may cure: the agent not connected or not answering yet, another agent job
 * holding the domain, an agent error on a read (INTERNAL_ERROR), the domain stopping (checked next).
 */
function isTransient(error: unknown): error is LibvirtError {
  return (
    error instanceof LibvirtError &&
    [
      ErrorCode.AGENT_UNRESPONSIVE,
      ErrorCode.AGENT_UNSYNCED,
      ErrorCode.OPERATION_TIMEOUT,
      ErrorCode.INTERNAL_ERROR,
      ErrorCode.OPERATION_INVALID,
    ].includes(error.code)
  );
}

function parseResult(json: unknown): { datasource: string | null; errors: string[] } {
  const v1 = (json as { v1?: { datasource?: unknown; errors?: unknown } } | null)?.v1;
  if (!v1 || !Array.isArray(v1.errors)) {
    throw new CloudInitWaitError(`${RESULT} in the guest has no v1.errors list`);
  }
  return { datasource: stringOrNull(v1.datasource), errors: v1.errors.map(String) };
}

function parseStatus(json: unknown): Progress {
  const v1 = ((json as { v1?: unknown } | null)?.v1 ?? {}) as Record<string, unknown>;
  const stages = STAGES.map((name) => [name, v1[name] as StageStatus | undefined] as const);
  return {
    stage: stringOrNull(v1.stage),
    finished: stages.filter(([, stage]) => stage?.finished).map(([name]) => name),
    datasource: stringOrNull(v1.datasource),
    errors: stages.flatMap(([, stage]) => (Array.isArray(stage?.errors) ? stage.errors : [])),
  };
}

interface StageStatus {
  finished?: unknown;
  errors?: unknown;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function checkResult(datasource: string | null, errors: string[], seedAttached: boolean): void {
  if (errors.length > 0) {
    throw new CloudInitWaitError(
      `cloud-init finished with ${errors.length} error${errors.length > 1 ? "s" : ""}: ${quote(errors)} (datasource ${datasource}; /var/log/cloud-init.log in the guest has the details)`,
    );
  }
  if (seedAttached && (datasource === null || datasource.startsWith("DataSourceNone"))) {
    throw new CloudInitWaitError(
      `cloud-init finished without reading the NoCloud seed attached to the domain (datasource ${datasource}): does the image's datasource_list include NoCloud, and is the ISO labelled cidata?`,
    );
  }
}

function quote(errors: string[]): string {
  const shown = errors
    .slice(0, MAX_ERRORS)
    .map((error) =>
      error.length > MAX_ERROR_CHARS ? `${error.slice(0, MAX_ERROR_CHARS)}…` : error,
    );
  const more = errors.length - shown.length;
  return shown.join("; ") + (more > 0 ? `; and ${more} more` : "");
}

function diagnose(last: Observation, answered: Observation | undefined): string {
  const silent = last.kind === "no-answer" ? last.error.message : undefined;
  if (!answered) {
    return `the QEMU guest agent never answered (${silent}): is qemu-guest-agent installed and running in the guest, and did the guest boot? (its console log may say)`;
  }
  const reason =
    answered.kind === "running"
      ? describeProgress(answered.progress)
      : `the guest agent answers, but cloud-init has not started (no ${STATUS}): is cloud-init installed in the image?`;
  return silent ? `${reason}; since then the guest agent stopped answering (${silent})` : reason;
}

/** What one look at the guest showed, for a status line. */
function observed(seen: Exclude<Observation, { kind: "finished" }>): string {
  switch (seen.kind) {
    case "running":
      return describeProgress(seen.progress);
    case "not-started":
      return `the guest agent answers; cloud-init has not started yet (no ${STATUS})`;
    case "no-answer":
      return `the guest agent does not answer yet (${seen.error.message})`;
  }
}

function describeProgress({ stage, finished, datasource, errors }: Progress): string {
  const done = finished.length ? `finished ${finished.join(", ")}` : "finished no stage";
  const next = STAGES.find((name) => !finished.includes(name));
  const now =
    stage !== null
      ? `cloud-init is still in stage ${stage} (${done})`
      : next !== undefined
        ? `cloud-init has ${done} and not started ${next} yet`
        : `cloud-init has ${done} but wrote no ${RESULT}`;
  const source =
    datasource === null && finished.includes("init")
      ? "; it found no datasource (is the NoCloud seed attached? set cloudInitDisk)"
      : "";
  return `${now}${source}${errors.length ? `; errors so far: ${quote(errors)}` : ""}`;
}
