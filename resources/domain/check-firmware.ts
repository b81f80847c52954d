/**
 * Rules for shared folders, the TPM and the UEFI details that schema.json cannot express: what each
 * needs from the rest of the domain (shared memory for virtiofs, q35 with SMM for Secure Boot, UEFI
 * for a loader), each failure naming the property and what to write instead.
 */
import type { CheckFailure } from "../kit/resource";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { isUnknown } from "./normalize";

type Inputs = Partial<CheckedDomainInputs>;

const fail = (property: string, reason: string): CheckFailure[] => [{ property, reason }];

const known = (value: unknown): boolean => value !== undefined && !isUnknown(value);

/** virtio-fs mount tags are at most 36 bytes (the virtio specification's `tag` field). */
const VIRTIOFS_TAG_BYTES = 36;

export function checkFirmware(inputs: Inputs): CheckFailure[] {
  return [...filesystems(inputs), ...tpm(inputs), ...secureBoot(inputs), ...uefiOnly(inputs)];
}

function filesystems({ filesystems: shares, memoryBacking }: Inputs): CheckFailure[] {
  if (!known(shares) || !Array.isArray(shares)) return [];
  const failures: CheckFailure[] = [];
  const seen = new Set<string>();
  const shared = known(memoryBacking) && memoryBacking!.access === "shared";
  shares.forEach((share, index) => {
    const at = `filesystems[${index}]`;
    if (!known(share)) return;
    if (known(share.target) && seen.has(share.target))
      failures.push(
        ...fail(
          `${at}.target`,
          `${at}.target "${share.target}" is the mount tag of another share too: give each share its own target`,
        ),
      );
    if (known(share.target)) seen.add(share.target);
    if (share.driver !== "virtiofs") return;
    if (!shared && !isUnknown(memoryBacking))
      failures.push(
        ...fail(
          at,
          `${at} is virtiofs, which needs the guest's memory shared with virtiofsd: add memoryBacking: { source: "memfd", access: "shared" }, or use driver: "9p"`,
        ),
      );
    if (known(share.target) && Buffer.byteLength(share.target) > VIRTIOFS_TAG_BYTES)
      failures.push(
        ...fail(
          `${at}.target`,
          `${at}.target "${share.target}" is longer than virtiofs allows (${VIRTIOFS_TAG_BYTES} bytes): use a shorter mount tag`,
        ),
      );
    if (known(share.accessMode) && share.accessMode !== "passthrough")
      failures.push(
        ...fail(
          `${at}.accessMode`,
          `${at}.accessMode ${share.accessMode}: virtiofs has only passthrough; remove accessMode, or use driver: "9p"`,
        ),
      );
  });
  return failures;
}

function tpm({ tpm: device }: Inputs): CheckFailure[] {
  if (!known(device) || device!.model !== "tpm-crb" || device!.version !== "1.2") return [];
  return fail(
    "tpm.version",
    `tpm.version 1.2: the tpm-crb interface is TPM 2.0 only; use version: "2.0", or model: "tpm-tis" for a TPM 1.2`,
  );
}

function secureBoot({ secureBoot: on, firmware, machine, features }: Inputs): CheckFailure[] {
  if (on !== true) return [];
  if (firmware !== "efi" && known(firmware))
    return fail(
      "secureBoot",
      `secureBoot needs UEFI: set firmware: "efi" (with machine: "q35" and features: { smm: true }), or remove secureBoot`,
    );
  const failures: CheckFailure[] = [];
  if (!isUnknown(machine) && !(typeof machine === "string" && /q35/.test(machine)))
    failures.push(
      ...fail(
        "machine",
        `secureBoot needs a q35 machine (Secure Boot firmware keeps its variables in SMM, which the pc machine lacks): set machine: "q35"`,
      ),
    );
  if (!isUnknown(features) && !(known(features) && features!.smm === true))
    failures.push(
      ...fail(
        "features.smm",
        `secureBoot needs System Management Mode, where the firmware guards its variables: set features: { smm: true }`,
      ),
    );
  return failures;
}

function uefiOnly(inputs: Inputs): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const properties = ["loader", "nvram", "nvramTemplate", "resetNvram"] as const;
  if (known(inputs.firmware) && inputs.firmware !== "efi") {
    for (const property of properties) {
      if (inputs[property] === undefined) continue;
      failures.push(
        ...fail(
          property,
          `${property} is a UEFI setting: set firmware: "efi", or remove ${property}`,
        ),
      );
    }
    return failures;
  }
  if (inputs.loader !== undefined) return failures;
  for (const property of ["nvram", "nvramTemplate"] as const) {
    if (inputs[property] === undefined) continue;
    failures.push(
      ...fail(
        property,
        `${property} needs loader, the firmware image its variables belong to: set loader (e.g. "/usr/share/OVMF/OVMF_CODE_4M.fd"), or remove ${property} and let libvirt pick both`,
      ),
    );
  }
  return failures;
}
