/**
 * Shared folders and the TPM of a domain (https://libvirt.org/formatdomain.html#filesystems,
 * #tpm-device), written into `<devices>` and read back from it:
 *
 *   <filesystem type="mount" accessmode="passthrough|mapped|squash">
 *     <driver type="virtiofs"/>?   (none: QEMU's own 9p server)
 *     <source dir="/host/dir"/> <target dir="mount tag"/> <readonly/>?
 *   </filesystem>
 *   <tpm model="tpm-crb|tpm-tis"> <backend type="emulator" version="2.0|1.2"/> </tpm>
 *
 * libvirt adds to a virtiofs share the queue size, a `<binary>` it picked and a PCI address, and to
 * a TPM the swtpm settings of its backend: only what is modelled is read. Shares of other kinds
 * (block, RAM, a template) and TPMs that pass a host device through are left to xmlPatches.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { attr, element, elements } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import type {
  DomainFilesystem,
  DomainFilesystemAccessMode,
  DomainTpm,
  DomainTpmModel,
  DomainTpmVersion,
} from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";

/** The devices of this file as read back, in the shape of the Domain's properties. */
export interface FilesystemDescription {
  filesystems: DomainFilesystem[];
  tpm?: DomainTpm;
}

type Inputs = Pick<CheckedDomainInputs, "filesystems" | "tpm">;

// libvirt's defaults when the XML leaves them out, for reading: access mode passthrough; a TPM's
// interface tpm-tis and its emulator's version 2.0.
const DEFAULT_ACCESS = "passthrough";
const DEFAULT_TPM_MODEL = "tpm-tis";
const DEFAULT_TPM_VERSION = "2.0";

export function buildFilesystems(devices: XMLBuilder, inputs: Inputs): void {
  for (const share of inputs.filesystems ?? []) {
    const node = devices.ele("filesystem", { type: "mount", accessmode: share.accessMode });
    if (share.driver === "virtiofs") node.ele("driver", { type: "virtiofs" });
    node.ele("source", { dir: share.source });
    node.ele("target", { dir: share.target });
    if (share.readOnly) node.ele("readonly");
  }
  const tpm = inputs.tpm;
  if (tpm) {
    devices
      .ele("tpm", { model: tpm.model })
      .ele("backend", { type: "emulator", version: tpm.version });
  }
}

export function readFilesystems(devices: XmlNode | undefined): FilesystemDescription {
  const tpm = elements(devices, "tpm").find(
    (node) => attr(element(node, "backend"), "type") === "emulator",
  );
  return {
    filesystems: elements(devices, "filesystem").flatMap(readFilesystem),
    tpm: tpm === undefined ? undefined : readTpm(tpm),
  };
}

function readFilesystem(node: XmlNode): DomainFilesystem[] {
  // libvirt's default type is mount: a directory of the host.
  if ((attr(node, "type") ?? "mount") !== "mount") return [];
  const driver = attr(element(node, "driver"), "type");
  if (driver !== undefined && driver !== "virtiofs" && driver !== "path") return [];
  return [
    {
      driver: driver === "virtiofs" ? "virtiofs" : "9p",
      source: attr(element(node, "source"), "dir") ?? "",
      target: attr(element(node, "target"), "dir") ?? "",
      readOnly: element(node, "readonly") !== undefined,
      accessMode: (attr(node, "accessmode") ?? DEFAULT_ACCESS) as DomainFilesystemAccessMode,
    },
  ];
}

function readTpm(node: XmlNode): DomainTpm {
  return {
    model: (attr(node, "model") ?? DEFAULT_TPM_MODEL) as DomainTpmModel,
    version: (attr(element(node, "backend"), "version") ?? DEFAULT_TPM_VERSION) as DomainTpmVersion,
  };
}
