/**
 * What a resource kind implements (resources/<kind>/handlers.ts) and what the provider gives it.
 * Handlers work on plain resolved inputs and outputs (resources/kit/generated/types.ts); the provider does the
 * schema checks, auto-naming, error mapping and dispatch around them.
 */
import type { Libvirt } from "../../rpc";
import type { Owner } from "./owner";

export interface CheckFailure {
  property: string;
  reason: string;
}

/**
 * How a change of a property is applied: `live` (nothing restarts), `restart` (the running domain
 * is shut down and started again), `replace` (a new object replaces this one); a Domain's finer
 * classes too: `offline` (redefined while shut off), `power` (started or shut down), `setting`
 * (virtwire's own setting: nothing to do in libvirt).
 */
export type ChangeClass = "live" | "restart" | "offline" | "replace" | "power" | "setting";

export interface DiffResult {
  changes: boolean;
  replaces: string[];
  deleteBeforeReplace?: boolean;
  /**
   * Each changed top-level input property and how its change is applied, for preview's
   * per-property diff; default: those in `replaces` replace, any other in `changed` is live.
   */
  classes?: Record<string, ChangeClass>;
  /** The changed top-level input properties, when `classes` is not given. */
  changed?: string[];
}

export interface ResourceContext {
  /** The shared connection to a host: `virtwire:hosts` key, or undefined for `virtwire:uri`. */
  connect(host: string | undefined): Promise<Libvirt>;
  /**
   * The virsh command for a host, for advice in messages: `virsh -c '<its URI>'` (any password in
   * the URI hidden), so the advice works for any user and host.
   */
  virsh(host: string | undefined): string;
  /**
   * A line for the user, kept: Pulumi shows it under the resource in Diagnostics (on the stack
   * when the inputs carry no URN, as in read and delete). Never pass secrets.
   */
  log(message: string): void;
  /** A warning for the user, kept, shown like `log`. */
  warn(message: string): void;
  /**
   * Progress of a long step (what is awaited, for how long, what was seen so far): shown on the
   * resource's row while it works and not kept (ephemeral). End a wait with one `log` line.
   */
  status(message: string): void;
  /**
   * The resource the objects belong to, to mark them with (create, update) and to tell its own
   * leftovers by (create); undefined when the inputs carry no URN.
   */
  owner?: Owner;
  /**
   * diff only: the engine asks for it to show what `refresh` found (olds are what read just
   * returned, news the inputs in the state). Nothing is about to change: print nothing about
   * how changes would be applied, and refuse nothing.
   */
  refresh?: boolean;
}

export interface ResourceHandlers<Inputs, Outputs> {
  /** Rules the schema cannot express, after the schema checks passed. */
  check?(inputs: Inputs): CheckFailure[];
  /**
   * Read-only questions before anything is made, after every other check passed; check runs in
   * preview too, so this is where what the host (does a network of libvirt's use these
   * addresses?) or this machine (is there a file at source.path?) says is reported at preview.
   * Asked only about what is new: `olds` are the inputs the resource had (`{}` for a new one),
   * and a value that did not change is not asked about again, so an update never fails on
   * something that was fine when the resource was made.
   */
  preflight?(inputs: Inputs, olds: Partial<Inputs>, ctx: ResourceContext): Promise<CheckFailure[]>;
  /**
   * Default: compare every input property, `replaceOnChanges` ones replace. `ctx` allows cheap,
   * read-only questions to libvirt (diff also runs in preview), e.g. whether a VM still runs.
   */
  diff?(
    id: string,
    olds: Outputs,
    news: Inputs,
    ctx?: ResourceContext,
  ): DiffResult | Promise<DiffResult>;
  /** Creates the object; on failure removes whatever it made before rethrowing. */
  create(inputs: Inputs, ctx: ResourceContext): Promise<{ id: string; outs: Outputs }>;
  /**
   * `Kind.get(name, id, state?)`, a read with nothing known before (resources/kit/get.ts): the object
   * `id` names, found by whatever users know it by (the kind's id, its name, …), with its complete
   * state as libvirt has it, and the kind's own id for it. `state` is what the program passed (e.g.
   * `host`). Throws a NotFoundError, naming what it accepts, when nothing matches.
   */
  get(
    id: string,
    state: Partial<Outputs>,
    ctx: ResourceContext,
  ): Promise<{ id: string; outs: Outputs }>;
  /** The object's current state, or undefined when libvirt says it no longer exists. */
  read(id: string, props: Outputs, ctx: ResourceContext): Promise<Outputs | undefined>;
  update(id: string, olds: Outputs, news: Inputs, ctx: ResourceContext): Promise<Outputs>;
  /** Removes the object; an object that is already gone is not an error. */
  delete(id: string, props: Outputs, ctx: ResourceContext): Promise<void>;
}

/**
 * Every resource kind the provider serves, by the name in its `__kind` input, and the words for
 * messages: `Pool` → "storage pool".
 */
export interface Registry {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  handlers: Record<string, ResourceHandlers<any, any>>;
  nouns: Record<string, string>;
}
