import { create } from "xmlbuilder2";
import { checkDomain } from "./check";
import { checkedDomain } from "./normalize";
import { buildConsole, comparableConsole, readConsole } from "./xml-console";
import { parseXml } from "../kit/xml";
import type { DomainConsole, DomainInputs } from "../kit/generated/types";

function consoleXml(console: DomainConsole): string {
  const root = create().ele("devices");
  buildConsole(
    root,
    checkedDomain({ name: "vm", type: "qemu", memory: "128MiB", console }).console,
  );
  return root.end({ headless: true });
}

const read = (xml: string) => readConsole(parseXml(xml, "devices"));

describe("the console in the domain XML", () => {
  it.each<[DomainConsole, string]>([
    [{ type: "pty" }, '<serial type="pty"/>'],
    [
      { type: "file", path: "/var/log/vm.log" },
      '<serial type="file"><source path="/var/log/vm.log"/></serial>',
    ],
    [
      { type: "unix", path: "/run/vm.sock" },
      '<serial type="unix"><source mode="bind" path="/run/vm.sock"/></serial>',
    ],
    [
      { type: "tcp", port: 4555 },
      '<serial type="tcp"><source mode="bind" host="127.0.0.1" service="4555"/><protocol type="raw"/></serial>',
    ],
    [{ type: "pty", target: "virtio" }, '<console type="pty"><target type="virtio"/></console>'],
  ])("is written for %j and read back as libvirt keeps it", (console, xml) => {
    expect(consoleXml(console)).toBe(`<devices>${xml}</devices>`);
    const checked = checkedDomain({ name: "vm", type: "qemu", memory: "128MiB", console }).console;
    expect(read(`<devices>${xml}</devices>`)).toEqual(comparableConsole(checked));
  });

  it("reads the serial port, not the console libvirt mirrors it as", () => {
    const libvirts = `<devices>
      <serial type='tcp'><source mode='bind' host='0.0.0.0' service='4556'/><protocol type='raw'/>
        <target type='isa-serial' port='0'><model name='isa-serial'/></target><alias name='serial0'/></serial>
      <console type='tcp'><source mode='bind' host='0.0.0.0' service='4556'/><target type='serial' port='0'/></console>
    </devices>`;
    expect(read(libvirts)).toEqual({ type: "tcp", listen: "0.0.0.0", port: 4556 });
    expect(
      read(
        "<devices><console type='pty' tty='/dev/pts/3'><target type='virtio' port='0'/></console></devices>",
      ),
    ).toEqual({ type: "pty", target: "virtio" });
  });

  it("is checked for what each type needs, naming the property and the fix", () => {
    const reasons = (console: DomainConsole) =>
      checkDomain(
        checkedDomain({ name: "vm", type: "qemu", memory: "128MiB", console } as DomainInputs),
      ).map((failure) => failure.reason);
    expect([
      ...reasons({ type: "unix" }),
      ...reasons({ type: "tcp" }),
      ...reasons({ type: "pty", port: 4555 }),
      ...reasons({ type: "tcp", port: 4555, listen: "example.org" }),
      ...reasons({ type: "tcp", port: 4555, path: "/x" }),
    ]).toEqual([
      'console.type "unix" needs console.path (the socket on the libvirt host)',
      'console.type "tcp" needs console.port (e.g. 4555)',
      'console.port is only used with console.type "tcp"',
      'console.listen "example.org" is not an IP address: use e.g. 127.0.0.1 (this host only) or 0.0.0.0 (every address)',
      'console.path is only used with console.type "file" or "unix"',
    ]);
  });
});
