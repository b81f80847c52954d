/**
 * The display and the small devices of a domain (https://libvirt.org/formatdomain.html#devices),
 * written into `<devices>` and read back from it:
 *
 *   <graphics type="vnc|spice" port="-1|N" autoport="yes|no" listen="…" websocket="N"? passwd="…"?/>
 *   <video><model type="virtio"/></video>
 *   <channel type="spicevmc"><target type="virtio" name="com.redhat.spice.0"/></channel>
 *   <rng model="virtio"><backend model="random">/dev/urandom</backend></rng>  or <backend model="builtin"/>
 *   <watchdog model="i6300esb" action="reset"/>
 *   <sound model="ich9"/>
 *   <input type="tablet" bus="usb"/>*
 *   <memballoon model="virtio|none"/>
 *
 * libvirt adds attributes of its own (a video card's vram and heads, PCI addresses, aliases) and
 * devices of its own (the PS/2 mouse and keyboard of x86 machines, a video card for a display, a
 * virtio balloon, q35's built-in iTCO watchdog from libvirt 9.1): only what is modelled is read,
 * and the PS/2 inputs never are. The password is in the XML only when it is read with
 * DomainXMLFlags.SECURE.
 */
import { create } from "../kit/xmlbuilder";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { attr, element, elements, text } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import type {
  DomainGraphics,
  DomainGraphicsType,
  DomainInput,
  DomainInputBus,
  DomainInputType,
  DomainMemoryBalloon,
  DomainMemoryBalloonModel,
  DomainRng,
  DomainSound,
  DomainSoundModel,
  DomainVideo,
  DomainVideoModel,
  DomainWatchdog,
  DomainWatchdogAction,
  DomainWatchdogModel,
} from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";

export const SPICE_AGENT_CHANNEL = "com.redhat.spice.0";
/** QEMU's own entropy source (rng-builtin), both as `rng.source` and as libvirt's backend model. */
const BUILTIN = "builtin";

/** The devices of this file as read back, in the shape of the Domain's properties. */
export interface DeviceDescription {
  graphics?: DomainGraphics;
  graphicsPassword?: string;
  video?: DomainVideo;
  spiceAgent: boolean;
  rng?: DomainRng;
  watchdog?: DomainWatchdog;
  sound?: DomainSound;
  inputs: DomainInput[];
  memoryBalloon?: DomainMemoryBalloon;
}

/** The Domain properties this file writes and reads. */
export type DeviceProperty = keyof DeviceDescription;

type DeviceInputs = Pick<CheckedDomainInputs, DeviceProperty>;

export function buildDevices(devices: XMLBuilder, inputs: DeviceInputs): void {
  if (inputs.graphics) addGraphics(devices, inputs.graphics, inputs.graphicsPassword);
  if (inputs.video) devices.ele("video").ele("model", { type: inputs.video.model });
  if (inputs.spiceAgent) {
    devices
      .ele("channel", { type: "spicevmc" })
      .ele("target", { type: "virtio", name: SPICE_AGENT_CHANNEL });
  }
  if (inputs.rng) {
    const rng = devices.ele("rng", { model: "virtio" });
    if (inputs.rng.source === BUILTIN) rng.ele("backend", { model: BUILTIN });
    else rng.ele("backend", { model: "random" }).txt(inputs.rng.source);
  }
  if (inputs.watchdog) {
    devices.ele("watchdog", { model: inputs.watchdog.model, action: inputs.watchdog.action });
  }
  if (inputs.sound) devices.ele("sound", { model: inputs.sound.model });
  for (const input of inputs.inputs ?? [])
    devices.ele("input", { type: input.type, bus: input.bus });
  if (inputs.memoryBalloon) devices.ele("memballoon", { model: inputs.memoryBalloon.model });
}

/** The display as a device document, for DomainUpdateDeviceFlags (a new password, live). */
export function graphicsXml(graphics: DomainGraphics, password: string | undefined): string {
  const root = create();
  addGraphics(root, graphics, password);
  return root.end({ headless: true, prettyPrint: true });
}

function addGraphics(parent: XMLBuilder, graphics: DomainGraphics, password?: string): void {
  const port = graphics.port;
  const node = parent.ele("graphics", {
    type: graphics.type,
    port: String(port ?? -1),
    autoport: port === undefined ? "yes" : "no",
  });
  if (graphics.listen !== undefined) node.att("listen", graphics.listen);
  if (graphics.websocket !== undefined) node.att("websocket", String(graphics.websocket));
  if (password !== undefined) node.att("passwd", password);
}

export function readDevices(devices: XmlNode | undefined): DeviceDescription {
  const graphics = element(devices, "graphics");
  const watchdogs = elements(devices, "watchdog").map(readWatchdog);
  const rng = elements(devices, "rng").find((node) =>
    ["random", BUILTIN].includes(attr(element(node, "backend"), "model") ?? ""),
  );
  const video = attr(element(element(devices, "video"), "model"), "type");
  const sound = attr(element(devices, "sound"), "model");
  const balloon = attr(element(devices, "memballoon"), "model");
  return {
    graphics: readGraphics(graphics),
    graphicsPassword: attr(graphics, "passwd"),
    video: video === undefined ? undefined : { model: video as DomainVideoModel },
    spiceAgent: elements(devices, "channel").some(
      (channel) => attr(element(channel, "target"), "name") === SPICE_AGENT_CHANNEL,
    ),
    rng: rng === undefined ? undefined : { source: rngSource(element(rng, "backend")) },
    // An explicit watchdog rather than q35's built-in one, when there are both.
    watchdog: watchdogs.find((dog) => dog.model !== "itco") ?? watchdogs[0],
    sound: sound === undefined ? undefined : { model: sound as DomainSoundModel },
    inputs: elements(devices, "input").flatMap(readInput),
    memoryBalloon:
      balloon === undefined ? undefined : { model: balloon as DomainMemoryBalloonModel },
  };
}

function readGraphics(graphics: XmlNode | undefined): DomainGraphics | undefined {
  if (graphics === undefined) return undefined;
  const listen = attr(graphics, "listen") ?? attr(element(graphics, "listen"), "address");
  const result: DomainGraphics = { type: attr(graphics, "type") as DomainGraphicsType };
  if (listen !== undefined) result.listen = listen;
  if (attr(graphics, "autoport") === "no") result.port = Number(attr(graphics, "port"));
  const websocket = Number(attr(graphics, "websocket"));
  if (Number.isInteger(websocket) && websocket > 0) result.websocket = websocket;
  return result;
}

function readWatchdog(node: XmlNode): DomainWatchdog {
  return {
    model: attr(node, "model") as DomainWatchdogModel,
    // libvirt's default action, not ours: a watchdog without one resets the guest.
    action: (attr(node, "action") ?? "reset") as DomainWatchdogAction,
  };
}

/** The PS/2 mouse and keyboard are implicit on x86 and never listed. */
function readInput(node: XmlNode): DomainInput[] {
  const bus = attr(node, "bus");
  if (bus !== "usb" && bus !== "virtio") return [];
  return [{ type: attr(node, "type") as DomainInputType, bus: bus as DomainInputBus }];
}

function rngSource(backend: XmlNode | undefined): string {
  if (attr(backend, "model") === BUILTIN) return BUILTIN;
  // libvirt's default source of a random backend is /dev/urandom (since 2.2.0).
  return text(backend) ?? "/dev/urandom";
}
