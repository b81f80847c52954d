/**
 * virtwire's mark in a domain's or network's XML (resources/kit/owner.ts):
 *
 *   <metadata>
 *     <virtwire:resource xmlns:virtwire="https://virtwire.dev/xmlns/resource/1" urn="<URN>" org="<organization>"/>
 *   </metadata>
 *
 * libvirt keeps the element as given and returns it in every description; readers of the XML
 * ignore it, so it never shows up as a change.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { Owner, RESOURCE_NAMESPACE, RESOURCE_PREFIX } from "./owner";

/** Adds `owner`'s mark; `org` only when the stack has an organization (owner.ts). */
export function addMark(root: XMLBuilder, owner: Pick<Owner, "urn" | "org">): void {
  const { urn, org } = owner;
  const attributes = org === undefined ? { urn } : { urn, org };
  root.ele("metadata").ele(RESOURCE_NAMESPACE, `${RESOURCE_PREFIX}:resource`, attributes);
}
