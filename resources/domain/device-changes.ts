/**
 * How changes to the display's password and the small devices of xml-devices.ts are applied.
 *
 *   live     graphicsPassword set or changed on an unchanged display: DomainUpdateDeviceFlags
 *            with the same `<graphics>` and the new `passwd` (libvirt refuses any other change of
 *            a display live: port, listen address, websocket)
 *   config   everything else (a restart while the domain runs): the video card, the SPICE agent
 *            channel, rng, watchdog, sound, inputs, the balloon, a removed password
 *
 * Unset devices: `video` and `memoryBalloon` are libvirt's choice and never compared (libvirt adds
 * both on its own). `rng`, `watchdog`, `sound` and `inputs` unset mean none, unless an xmlPatch
 * adds that element (a program from before these properties), which is then left to the patch.
 * q35's built-in iTCO watchdog with action reset, which libvirt 9.1 and later lists, counts as none.
 * The password is never part of a change's description.
 */
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { deepEqual } from "../kit/diff";
import type { DomainOutputs, DomainWatchdog } from "../kit/generated/types";
import type { CheckedDomainInputs } from "../kit/generated/checked";
import type { ChangeClass } from "../kit/resource";
import { isSet, isUnknown } from "./normalize";
import { patchedDevices } from "./patches";
import { graphicsXml } from "./xml-devices";
import type { DeviceProperty } from "./xml-devices";

type Current = Partial<Pick<DomainOutputs, DeviceProperty>>;

type Add = (cls: Extract<ChangeClass, "live"> | "config", property: string, detail: string) => void;

export function classifyDeviceChanges(
  current: Current,
  news: CheckedDomainInputs,
  add: Add,
  graphicsChanged: boolean,
): void {
  const changed = (property: string, wanted: unknown, have: unknown) => {
    if (isUnknown(wanted) || !deepEqual(wanted, have))
      add("config", property, `${property} changed`);
  };
  classifyPassword(current, news, add, graphicsChanged);
  if (isSet(news.video)) changed("video", news.video, current.video);
  if (isSet(news.memoryBalloon))
    changed("memoryBalloon", news.memoryBalloon, current.memoryBalloon);
  changed("spiceAgent", news.spiceAgent, current.spiceAgent ?? false);
  const patched = isUnknown(news.xmlPatches) ? new Set() : patchedDevices(news.xmlPatches ?? []);
  // Unset, and a patch adds the element: the patch's business.
  const toPatch = (property: keyof Current, element: string) =>
    news[property] === undefined && patched.has(element);
  if (!toPatch("rng", "rng")) changed("rng", news.rng, current.rng);
  if (!toPatch("sound", "sound")) changed("sound", news.sound, current.sound);
  if (!toPatch("watchdog", "watchdog")) {
    const wanted = isUnknown(news.watchdog) ? news.watchdog : comparableWatchdog(news.watchdog);
    changed("watchdog", wanted, comparableWatchdog(current.watchdog));
  }
  if (!toPatch("inputs", "input")) changed("inputs", news.inputs ?? [], current.inputs ?? []);
}

/** q35's built-in watchdog as libvirt lists it unasked is no watchdog. */
export function comparableWatchdog(dog: DomainWatchdog | undefined): DomainWatchdog | undefined {
  return dog?.model === "itco" && (dog.action ?? "reset") === "reset" ? undefined : dog;
}

function classifyPassword(
  current: Current,
  news: CheckedDomainInputs,
  add: Add,
  graphicsChanged: boolean,
) {
  const wanted = news.graphicsPassword;
  if (!isUnknown(wanted) && wanted === current.graphicsPassword) return;
  if (wanted === undefined) return add("config", "graphicsPassword", "graphicsPassword removed");
  const live = !graphicsChanged && isSet(news.graphics) && isSet(current.graphics);
  add(live ? "live" : "config", "graphicsPassword", "graphicsPassword changed");
}

/** A new password for the running display and its config (flags), when it changed. */
export async function applyDeviceLiveChanges(
  lv: Libvirt,
  dom: RemoteNonnullDomain,
  current: Current,
  news: CheckedDomainInputs,
  flags: number,
): Promise<void> {
  const password = news.graphicsPassword;
  if (news.graphics && password !== undefined && password !== current.graphicsPassword) {
    await lv.DomainUpdateDeviceFlags({ dom, xml: graphicsXml(news.graphics, password), flags });
  }
}
