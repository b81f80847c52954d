/**
 * check() rules for the display's options and the small devices (xml-devices.ts) that schema.json
 * cannot express, and at preview the display types and video models the host's QEMU offers (its
 * domain capabilities: QEMU builds differ, e.g. Debian 13's has neither QXL nor SPICE); whether it
 * takes the rest (a sound or watchdog model) preflight.ts asks libvirt, naming the property
 * refused; and what each kind of console needs. No message ever holds the password.
 */
import { LibvirtError } from "../../rpc";
import type { Libvirt } from "../../rpc";
import type { CheckFailure } from "../kit/resource";
import { attr, element, elements, parseXml, text } from "../kit/xml";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import { isIP } from "node:net";
import { isSet, isUnknown } from "./normalize";
import { patchedDevices } from "./patches";

/** VNC's authentication (DES) uses the first 8 characters and ignores the rest. */
const VNC_PASSWORD_LENGTH = 8;

export function checkDevices(inputs: Partial<CheckedDomainInputs>): CheckFailure[] {
  const failures: CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  const graphics = inputs.graphics;
  const type = isSet(graphics) && !isUnknown(graphics.type) ? graphics.type : undefined;
  const password = inputs.graphicsPassword;
  if (isSet(password) && !isSet(graphics) && !isUnknown(password)) {
    fail(
      "graphicsPassword",
      "graphicsPassword needs a display: set graphics too, or remove graphicsPassword",
    );
  }
  if (
    type === "vnc" &&
    typeof password === "string" &&
    !isUnknown(password) &&
    password.length > VNC_PASSWORD_LENGTH
  ) {
    fail(
      "graphicsPassword",
      `graphicsPassword has ${password.length} characters, and VNC uses only the first ${VNC_PASSWORD_LENGTH}: use a password of at most ${VNC_PASSWORD_LENGTH} characters, or graphics.type "spice"`,
    );
  }
  const websocket = isSet(graphics) ? graphics.websocket : undefined;
  if (isSet(websocket) && type === "spice") {
    fail(
      "graphics.websocket",
      'graphics.websocket is for VNC only: use graphics.type "vnc", or remove websocket',
    );
  }
  if (isSet(websocket) && isSet(graphics) && websocket === graphics.port) {
    fail(
      "graphics.websocket",
      `graphics.websocket ${websocket} is the display's own port: use another port, e.g. ${websocket - 200}`,
    );
  }
  if (inputs.spiceAgent === true && type !== "spice" && !isUnknown(graphics)) {
    fail(
      "spiceAgent",
      'spiceAgent needs a SPICE display: set graphics: { type: "spice" }, or spiceAgent: false',
    );
  }
  const seen = new Set<string>();
  (Array.isArray(inputs.inputs) ? inputs.inputs : []).forEach((input, index) => {
    const key = `${input.type} ${input.bus}`;
    if (seen.has(key))
      fail(`inputs[${index}]`, `inputs[${index}] repeats a ${input.bus} ${input.type}: remove it`);
    seen.add(key);
  });
  const patches = isUnknown(inputs.xmlPatches)
    ? new Set<string>()
    : patchedDevices(inputs.xmlPatches ?? []);
  for (const [property, element] of [
    ["video", "video"],
    ["rng", "rng"],
    ["watchdog", "watchdog"],
    ["sound", "sound"],
    ["inputs", "input"],
    ["memoryBalloon", "memballoon"],
  ] as const) {
    if (isSet(inputs[property]) && patches.has(element)) {
      fail(
        property,
        `${property} is set and an xmlPatch adds <${element}> too: remove that patch, now that ${property} covers it`,
      );
    }
  }
  return failures;
}

const failOne = (property: string, reason: string): CheckFailure[] => [{ property, reason }];

/** What each kind of console needs, and only it. */
export function checkConsole({ console: spec }: Partial<CheckedDomainInputs>): CheckFailure[] {
  if (!spec) return [];
  const withPath = spec.type === "file" || spec.type === "unix";
  const what = spec.type === "file" ? "the log file" : "the socket";
  if (withPath && !isSet(spec.path)) {
    return failOne(
      "console.path",
      `console.type "${spec.type}" needs console.path (${what} on the libvirt host)`,
    );
  }
  if (!withPath && isSet(spec.path)) {
    return failOne("console.path", `console.path is only used with console.type "file" or "unix"`);
  }
  if (spec.type === "tcp" && !isSet(spec.port)) {
    return failOne("console.port", `console.type "tcp" needs console.port (e.g. 4555)`);
  }
  for (const key of ["port", "listen"] as const) {
    if (spec.type !== "tcp" && isSet(spec[key])) {
      return failOne(`console.${key}`, `console.${key} is only used with console.type "tcp"`);
    }
  }
  const listen = spec.listen;
  if (typeof listen === "string" && !isUnknown(listen) && !isIP(listen)) {
    return failOne(
      "console.listen",
      `console.listen ${JSON.stringify(listen)} is not an IP address: use e.g. 127.0.0.1 (this host only) or 0.0.0.0 (every address)`,
    );
  }
  return [];
}

/**
 * The display type and video model against the host's domain capabilities for this domain type,
 * arch and machine:
 *   <domainCapabilities> <devices>
 *     <graphics supported='yes'><enum name='type'><value>vnc</value>…</enum></graphics>
 *     <video supported='yes'><enum name='modelType'><value>vga</value>…</enum></video>
 */
export async function deviceHostFailures(
  lv: Libvirt,
  inputs: CheckedDomainInputs,
): Promise<CheckFailure[]> {
  const wanted = [
    { property: "graphics.type", device: "graphics", name: "type", value: inputs.graphics?.type },
    { property: "video.model", device: "video", name: "modelType", value: inputs.video?.model },
  ].filter((item) => item.value !== undefined && item.value !== "none");
  if (wanted.length === 0) return [];
  let xml: string;
  try {
    ({ capabilities: xml } = await lv.ConnectGetDomainCapabilities({
      emulatorbin: null,
      arch: inputs.arch ?? null,
      machine: inputs.machine ?? null,
      virttype: inputs.type,
      flags: 0,
    }));
  } catch (error) {
    // An older daemon or another driver: it cannot tell, and the define will.
    if (error instanceof LibvirtError) return [];
    throw error;
  }
  const devices = element(parseXml(xml, "domainCapabilities"), "devices");
  return wanted.flatMap(({ property, device, name, value }) => {
    const list = elements(element(devices, device), "enum").find((e) => attr(e, "name") === name);
    if (list === undefined) return [];
    const offered = elements(list, "value").map((node) => text(node) ?? "");
    if (offered.includes(value!)) return [];
    return [
      {
        property,
        reason: `${property} ${JSON.stringify(value)} is not offered by QEMU on this host (it offers ${offered.map((v) => JSON.stringify(v)).join(", ") || "none"}): use one of those`,
      },
    ];
  });
}
