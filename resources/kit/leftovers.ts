/**
 * Clean-up after a failed create. What the create made is removed over a connection asked for
 * again (ctx.connect gives a new one when the create's connection died: a daemon that hung until
 * keepalive gave up, or restarted). When that is impossible too, the error says exactly what is
 * left, that the next `pulumi up` removes it (it carries this resource's mark, owner.ts), and how
 * to remove it by hand.
 */
import { isNotFound, Libvirt } from "../../rpc";
import type { Owner } from "./owner";
import type { ResourceContext } from "./resource";

/** A create's error, with what it left behind in libvirt; dispatch.ts adds the note to the message. */
export class LeftBehindError extends Error {
  override name = "LeftBehindError";
  constructor(
    /** The create's own failure. */
    override readonly cause: unknown,
    /** What is left and what to do, a sentence for the user. */
    readonly note: string,
  ) {
    super(`${(cause as Error)?.message ?? String(cause)}. ${note}`, { cause });
  }
}

export interface HalfMade {
  /** The host the object is on (a `virtwire:hosts` key, or undefined). */
  host: string | undefined;
  /** "domain vm1-1a2b3c4 (uuid 6f…)", as the user is told it is left. */
  what: string;
  /** Whether the next `pulumi up` removes it: the object carries the resource's mark. */
  marked: boolean;
  /**
   * The next `pulumi up` finds it only under the name the create wanted (pools, volumes, seeds:
   * their names derive from the inputs), so only if the inputs stay the same.
   */
  foundByName?: boolean;
  /** The virsh commands that remove it by hand (checked against a real daemon), given virsh's. */
  byHand: (virsh: string) => string;
}

/**
 * Runs `undo` on a fresh-if-needed connection after the create failed with `error`, and returns the
 * error to throw: `error` itself when the object is gone, else a LeftBehindError.
 */
export async function undoHalfMade(
  ctx: ResourceContext,
  error: unknown,
  object: HalfMade,
  undo: (lv: Libvirt) => Promise<void>,
): Promise<unknown> {
  try {
    await undo(await ctx.connect(object.host));
    return error;
  } catch (undoError) {
    if (isNotFound(undoError)) return error;
    const why = (undoError as Error)?.message ?? String(undoError);
    const next = object.marked
      ? object.foundByName
        ? "The next `pulumi up` with the same inputs removes it (it carries this resource's mark); to remove it now, or if you change the inputs: "
        : "The next `pulumi up` removes it (it carries this resource's mark); to remove it now: "
      : "Remove it before the next `pulumi up`: ";
    return new LeftBehindError(
      error,
      `Left behind: ${object.what}, which virtwire could not remove (${why}). ${next}${object.byHand(ctx.virsh(object.host))}`,
    );
  }
}

/** An object met while looking for a resource's leftovers: its name and its mark. */
export interface Marked<T> {
  object: T;
  name: string;
  /** The object's mark (owner.ts); undefined when it has none. */
  mark: string | undefined;
}

/**
 * Before a fresh create of `kind` `name`: the objects among `found` that are this resource's
 * leftovers (with its mark, whatever their name). Fails, touching nothing, when `name` is
 * taken by an object that is not one: that object is somebody else's.
 */
export function leftoversOf<T>(
  kind: string,
  name: string,
  found: Marked<T>[],
  owner: Owner,
): Marked<T>[] {
  const taken = found.find((each) => each.name === name && each.mark !== owner.mark);
  if (taken) {
    const whose = taken.mark
      ? `it belongs to ${taken.mark}`
      : "virtwire did not create it for this resource";
    throw new Error(
      `a ${kind} named ${name} already exists, and ${whose}; nothing was changed: set another name (or remove that ${kind}, if nothing needs it)`,
    );
  }
  return found.filter(({ mark }) => mark === owner.mark);
}

/** The line logged for a removed leftover; `detail` goes after "removed", `after` at the end. */
export function leftoverRemoved(what: string, detail = "", after = ""): string {
  return `virtwire: ${what}: removed${detail}, left by a failed earlier create of this resource${after}`;
}
