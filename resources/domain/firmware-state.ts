/**
 * Shared folders, the TPM and the UEFI details (xml-filesystems.ts, xml-firmware.ts) as outputs and
 * compared for a diff:
 *
 *   config   filesystems, tpm, secureBoot, loader, nvram, nvramTemplate: a redefinition, so a
 *            restart while running (diff.ts); libvirt cannot change them on a running guest
 *   config   resetNvram set to a new value: redefined as it is, then started (or restarted) with a
 *            fresh NVRAM (nvram.ts)
 *   setting  resetNvram removed: nothing to do in libvirt
 *
 * `loader`, `nvram` and `nvramTemplate` are compared only when set: libvirt fills in its own when
 * they are not (libvirt 11 even for a loader it picked). Removing one is no change of its own: the
 * next redefinition (any restart change) lets libvirt pick again.
 */
import { deepEqual } from "../kit/diff";
import type { DomainInputs, DomainOutputs } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import type { ChangeClass } from "../kit/resource";
import { isSet, isUnknown } from "./normalize";
import type { FilesystemDescription } from "./xml-filesystems";
import type { FirmwareDescription } from "./xml-firmware";

type Previous = Partial<DomainInputs | DomainOutputs>;

type Current = Partial<
  Pick<
    DomainOutputs,
    "filesystems" | "tpm" | "secureBoot" | "loader" | "nvram" | "nvramTemplate" | "resetNvram"
  >
>;

type Add = (
  cls: Extract<ChangeClass, "setting"> | "config",
  property: string,
  detail: string,
) => void;

/** The outputs of this file's properties; resetNvram is the user's, carried over as given. */
export function firmwareOutputs(
  description: FilesystemDescription & FirmwareDescription,
  previous: Previous,
) {
  return {
    secureBoot: description.secureBoot,
    loader: description.loader,
    nvram: description.nvram,
    nvramTemplate: description.nvramTemplate,
    resetNvram: previous.resetNvram,
    filesystems: description.filesystems,
    tpm: description.tpm,
  };
}

export function classifyFirmware(current: Current, news: CheckedDomainInputs, add: Add): void {
  const changed = (property: string, wanted: unknown, have: unknown) => {
    if (isUnknown(wanted) || !deepEqual(wanted, have))
      add("config", property, `${property} changed`);
  };
  changed("filesystems", news.filesystems ?? [], current.filesystems ?? []);
  changed("tpm", news.tpm, current.tpm);
  changed("secureBoot", news.secureBoot, current.secureBoot ?? false);
  if (isSet(news.loader)) changed("loader", news.loader, current.loader);
  if (isSet(news.nvram)) changed("nvram", news.nvram, current.nvram);
  if (isSet(news.nvramTemplate))
    changed("nvramTemplate", news.nvramTemplate, current.nvramTemplate);
  const reset = news.resetNvram;
  if (reset === current.resetNvram) return;
  if (isUnknown(reset)) add("config", "resetNvram", "resetNvram not known yet");
  else if (reset === undefined) add("setting", "resetNvram", "resetNvram removed");
  else add("config", "resetNvram", `resetNvram ${current.resetNvram ?? "unset"} → ${reset}`);
}

/** Whether the changes ask for a fresh NVRAM at the next start. */
export function wantsNvramReset(changes: { property: string; class: ChangeClass }[]): boolean {
  return changes.some((change) => change.property === "resetNvram" && change.class !== "setting");
}
