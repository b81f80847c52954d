/**
 * The console (https://libvirt.org/formatdomain.html#consoles-serial-parallel-channel-devices):
 * a serial port the guest sees as ttyS0, or a virtio console (hvc0), and where its host side goes:
 *
 *   <serial type="pty"/>
 *   <serial type="file"><source path="/var/log/vm.log"/></serial>
 *   <serial type="unix"><source mode="bind" path="/run/vm.sock"/></serial>
 *   <serial type="tcp"><source mode="bind" host="127.0.0.1" service="4555"/><protocol type="raw"/></serial>
 *   <console type="…">…<target type="virtio"/></console>          (target virtio: no serial port)
 *
 * libvirt mirrors a serial port as `<console …><target type="serial"/></console>`, adds the
 * serial's `<target>`, a pty's path and aliases: the serial port is read when there is one, else a
 * virtio console.
 */
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces";
import { attr, element, elements } from "../kit/xml";
import type { XmlNode } from "../kit/xml";
import type { DomainConsole, DomainConsoleType } from "../kit/generated/types";
import type { CheckedDomainConsole } from "../kit/generated/checked";

/** libvirt's own default for a TCP console's listen address is 127.0.0.1 as well. */
const LOCALHOST = "127.0.0.1";

/**
 * The console as libvirt keeps it: only the fields of its type, and its target only when it is
 * not the serial port (so the state of a domain from before `target` compares equal).
 */
export function comparableConsole(console: CheckedDomainConsole): DomainConsole {
  const result: DomainConsole = { type: console.type };
  if (console.type === "file" || console.type === "unix") result.path = console.path;
  if (console.type === "tcp") {
    result.listen = console.listen ?? LOCALHOST;
    result.port = console.port;
  }
  if (console.target === "virtio") result.target = "virtio";
  return result;
}

export function buildConsole(devices: XMLBuilder, given: CheckedDomainConsole): void {
  const console = comparableConsole(given);
  const node = devices.ele(console.target === "virtio" ? "console" : "serial", {
    type: console.type,
  });
  if (console.type === "file") node.ele("source", { path: console.path });
  if (console.type === "unix") node.ele("source", { mode: "bind", path: console.path });
  if (console.type === "tcp") {
    node.ele("source", { mode: "bind", host: console.listen, service: String(console.port) });
    node.ele("protocol", { type: "raw" });
  }
  if (console.target === "virtio") node.ele("target", { type: "virtio" });
}

export function readConsole(devices: XmlNode | undefined): DomainConsole | undefined {
  const serial = element(devices, "serial");
  const virtio = elements(devices, "console").find(
    (node) => attr(element(node, "target"), "type") === "virtio",
  );
  const node = serial ?? virtio;
  const type = attr(node, "type");
  const source = element(node, "source");
  let result: DomainConsole;
  if (type === "pty") result = { type: "pty" };
  else if (type === "file" || type === "unix") result = { type, path: attr(source, "path") };
  else if (type === "tcp") {
    result = { type, listen: attr(source, "host"), port: Number(attr(source, "service")) };
  } else return undefined;
  if (!serial) result.target = "virtio";
  return result as DomainConsole & { type: DomainConsoleType };
}
