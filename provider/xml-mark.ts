/**
 * virtwire's mark in a domain's or network's XML (provider/owner.ts):
 *
 *   <metadata>
 *     <virtwire:resource xmlns:virtwire="https://virtwire.dev/xmlns/resource/1" urn="<URN>"/>
 *   </metadata>
 *
 * libvirt keeps the element as given and returns it in every description; readers of the XML
 * ignore it, so it never shows up as a change.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { RESOURCE_NAMESPACE, RESOURCE_PREFIX } from "./owner";

export function addMark(root: XMLBuilder, urn: string): void {
  root.ele("metadata").ele(RESOURCE_NAMESPACE, `${RESOURCE_PREFIX}:resource`, { urn });
}
