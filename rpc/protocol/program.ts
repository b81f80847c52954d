/**
 * Programs and procedures. A program is a (number, version) pair sharing one connection with the
 * others; a procedure is declared once, with the codecs of its `_args` and `_ret` structs, and
 * that single declaration drives encoding, decoding and the typed client methods.
 */
import { ProtocolError } from "../errors";
import { Codec, Infer } from "../xdr";
import { Header, MessageType } from "./header";

export interface Program {
  /** libvirt's name for the program, e.g. `REMOTE`. */
  readonly name: string;
  readonly number: number;
  readonly version: number;
}

export interface Procedure<Args, Ret> {
  /** libvirt's API-style name, e.g. `DomainGetXMLDesc` for REMOTE_PROC_DOMAIN_GET_XML_DESC. */
  readonly name: string;
  readonly program: Program;
  readonly number: number;
  readonly args: Codec<Args>;
  readonly ret: Codec<Ret>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCodec = Codec<any>;
/** `[procedure number, args codec, ret codec]`. */
export type ProcedureSpec = readonly [number, AnyCodec, AnyCodec];
export type ProcedureTable<S extends Record<string, ProcedureSpec>> = {
  [K in keyof S & string]: Procedure<Infer<S[K][1]>, Infer<S[K][2]>>;
};

/** Turns a table of specs into named Procedure objects of one program. */
export function defineProcedures<S extends Record<string, ProcedureSpec>>(
  program: Program,
  specs: S,
): ProcedureTable<S> {
  const table: Record<string, Procedure<unknown, unknown>> = {};
  const seen = new Map<number, string>();
  for (const [name, [number, args, ret]] of Object.entries(specs)) {
    const clash = seen.get(number);
    if (clash !== undefined) {
      throw new Error(
        `${program.name} procedure ${number} is declared twice: ${clash} and ${name}`,
      );
    }
    seen.set(number, name);
    table[name] = { name, program, number, args, ret };
  }
  return table as ProcedureTable<S>;
}

/**
 * Throws a ProtocolError unless `header`, addressed to `program`, carries the program's version: a
 * message of another version may be laid out differently, and libvirt's own client matches every
 * reply, event and stream packet on program and version (virNetClientProgramMatches).
 */
export function checkProgramVersion(header: Header, program: Program): void {
  if (header.version === program.version) return;
  throw new ProtocolError(
    `${MessageType[header.type] ?? header.type} of program ${program.name} has protocol version ` +
      `${header.version}; virtwire speaks ${program.name} version ${program.version}`,
  );
}

export type ArgsOf<P> = P extends Procedure<infer A, unknown> ? A : never;
export type RetOf<P> = P extends Procedure<unknown, infer R> ? R : never;
