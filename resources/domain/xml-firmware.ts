/**
 * The firmware part of a domain's `<os>` (https://libvirt.org/formatdomain.html#bios-bootloader),
 * written and read back:
 *
 *   libvirt picks the firmware (firmware "efi" without `loader`):
 *     <os firmware="efi"> <firmware> <feature enabled="yes|no" name="secure-boot"/>
 *                                    <feature enabled="yes" name="enrolled-keys"/>? </firmware> </os>
 *   the user's firmware (`loader`):
 *     <os> <loader readonly="yes" type="pflash" secure="yes|no">path</loader>
 *          <nvram template="path"?>path?</nvram>? </os>
 *
 * Secure Boot off is written as a feature too, so that libvirt does not pick a Secure Boot build
 * (Debian lists those first) for a domain that did not ask for one. Newer libvirt (11 here) makes
 * the pick when the domain is defined and writes the chosen `<loader>` and `<nvram>` into the
 * inactive XML beside `firmware="efi"`; 9.0 at each start. libvirt 11 also turns a `<loader>`
 * without `<nvram>` into `firmware="efi"` with the features that loader has. So Secure Boot is read
 * from the features where there are any, else from the loader; the loader, NVRAM and template as
 * libvirt has them (diff.ts compares them only where the user set them).
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import type { DomainFirmware } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { attr, element, elements, text } from "../kit/xml";
import type { XmlNode } from "../kit/xml";

type Inputs = Partial<
  Pick<CheckedDomainInputs, "firmware" | "secureBoot" | "loader" | "nvram" | "nvramTemplate">
>;

export interface FirmwareDescription {
  firmware: DomainFirmware;
  secureBoot: boolean;
  loader?: string;
  nvram?: string;
  nvramTemplate?: string;
}

/** Sets `os`'s firmware attribute and adds its firmware elements. */
export function addFirmware(os: XMLBuilder, inputs: Inputs): void {
  if (inputs.firmware !== "efi") return;
  const secure = inputs.secureBoot ? "yes" : "no";
  if (inputs.loader === undefined) {
    os.att("firmware", "efi");
    const features = os.ele("firmware");
    features.ele("feature", { enabled: secure, name: "secure-boot" });
    if (inputs.secureBoot) features.ele("feature", { enabled: "yes", name: "enrolled-keys" });
    return;
  }
  os.ele("loader", { readonly: "yes", type: "pflash", secure }).txt(inputs.loader);
  if (inputs.nvram === undefined && inputs.nvramTemplate === undefined) return;
  const nvram = os.ele("nvram", inputs.nvramTemplate ? { template: inputs.nvramTemplate } : {});
  if (inputs.nvram !== undefined) nvram.txt(inputs.nvram);
}

export function readFirmware(os: XmlNode | undefined): FirmwareDescription {
  const loader = element(os, "loader");
  const nvram = element(os, "nvram");
  const secureFeature = elements(element(os, "firmware"), "feature").find(
    (feature) => attr(feature, "name") === "secure-boot",
  );
  const efi = attr(os, "firmware") === "efi" || attr(loader, "type") === "pflash";
  return {
    firmware: efi ? "efi" : "bios",
    secureBoot:
      secureFeature !== undefined
        ? attr(secureFeature, "enabled") === "yes"
        : attr(loader, "secure") === "yes",
    loader: text(loader),
    nvram: text(nvram),
    nvramTemplate: attr(nvram, "template"),
  };
}
