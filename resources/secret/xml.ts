/**
 * Secret XML (https://libvirt.org/formatsecret.html), built from a Secret's inputs and read back
 * from libvirt's description. The value is never in it (SECRET_SET_VALUE carries the value):
 *
 *   <secret ephemeral="no|yes" private="no|yes">
 *     <uuid>…</uuid>  <description>…</description>
 *     <usage type="volume"> <volume>/path</volume> </usage>      (ceph, tls, vtpm: <name>; iscsi: <target>)
 *   </secret>
 */
import type { SecretUsageType } from "../kit/generated/types";
import { attr, element, parseXml, text } from "../kit/xml";
import { create } from "../kit/xmlbuilder";

/** The element inside `<usage>` that holds the usage id, per usage type (secret_conf.c). */
const USAGE_ELEMENT: Record<Exclude<SecretUsageType, "none">, string> = {
  volume: "volume",
  ceph: "name",
  iscsi: "target",
  tls: "name",
  vtpm: "name",
};

interface SecretDescription {
  uuid?: string;
  usageType: SecretUsageType;
  usageId?: string;
  description?: string;
  private: boolean;
  ephemeral: boolean;
}

export function buildSecretXml(secret: SecretDescription): string {
  const root = create().ele("secret", {
    ephemeral: secret.ephemeral ? "yes" : "no",
    private: secret.private ? "yes" : "no",
  });
  if (secret.uuid) root.ele("uuid").txt(secret.uuid);
  if (secret.description !== undefined && secret.description !== null) {
    root.ele("description").txt(secret.description);
  }
  if (secret.usageType !== "none") {
    root
      .ele("usage", { type: secret.usageType })
      .ele(USAGE_ELEMENT[secret.usageType])
      .txt(secret.usageId ?? "");
  }
  return root.end({ headless: true, prettyPrint: true });
}

export function readSecretXml(xml: string): SecretDescription & { uuid: string } {
  const root = parseXml(xml, "secret");
  const usage = element(root, "usage");
  const usageType = (attr(usage, "type") ?? "none") as SecretUsageType;
  return {
    uuid: text(root, "uuid") ?? "",
    usageType,
    usageId: usageType === "none" ? undefined : text(usage, USAGE_ELEMENT[usageType]),
    description: text(root, "description"),
    private: attr(root, "private") === "yes",
    ephemeral: attr(root, "ephemeral") === "yes",
  };
}
