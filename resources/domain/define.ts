/**
 * Defining a domain with libvirt's schema check (VIR_DOMAIN_DEFINE_VALIDATE), tried again while
 * the daemon cannot load the schema itself. libxml2 before 2.11 (Debian 12 has 2.9.14) fills its
 * table of XML Schema types on the first validation in a process, without a lock: validations
 * that run at once just after libvirtd starts (a stack's domains are defined in parallel) can find
 * the table half filled and fail with "Unable to parse RNG …/domain.rng: Error type 'unsignedInt'
 * is not exported by type library", which a full test run met once, right after a daemon restart.
 * That is VIR_ERR_INTERNAL_ERROR from VIR_FROM_XML, which only the validator's own machinery
 * reports: an invalid document is VIR_ERR_XML_INVALID_SCHEMA, and is never tried again. A failed
 * validation defines nothing, so trying again is safe.
 */
import { DefineFlags, ErrorCode, ErrorDomain, hasErrorCode } from "../../rpc";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { tryAgainWhile } from "../kit/try-again";

/** How often the define is tried, and the wait before each try after the first. */
export const SCHEMA_TRIES = 3;
export const SCHEMA_RETRY_MS = 500;

export async function defineValidated(lv: Libvirt, xml: string): Promise<RemoteNonnullDomain> {
  const define = () => lv.DomainDefineXMLFlags({ xml, flags: DefineFlags.VALIDATE });
  return (await tryAgainWhile(schemaUnloadable, SCHEMA_TRIES, SCHEMA_RETRY_MS, define)).dom;
}

/** The daemon could not load its own RNG schema, as opposed to refusing the document. */
function schemaUnloadable(error: unknown): boolean {
  return hasErrorCode(error, ErrorCode.INTERNAL_ERROR) && error.domain === ErrorDomain.XML;
}
