/**
 * check() rules for the display's options and the small devices (xml-devices.ts) that schema.json
 * cannot express. Whether the host's QEMU has a model (video, sound, watchdog) is asked at preview
 * (preflight.ts, which names the property libvirt refuses). No message ever holds the password.
 */
import type { CheckFailure } from "../kit/resource";
import type { CheckedDomainInputs } from "../kit/generated/checked";
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
