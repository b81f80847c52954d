import { checkedDomain } from "./normalize";
import { checkDevices } from "./device-checks";
import { classifyDeviceChanges } from "./device-changes";
import { buildDomainXml } from "./xml-build";
import { buildDevices, graphicsXml, readDevices } from "./xml-devices";
import { parseXml, element } from "../kit/xml";
import { create } from "xmlbuilder2";
import type { DomainInputs } from "../kit/generated/types";

const PASSWORD = "s3cr3t!";

const base: DomainInputs = { name: "vm", type: "qemu", memory: "128MiB" };
const everything: DomainInputs = {
  ...base,
  graphics: { type: "vnc", listen: "0.0.0.0", websocket: 5700 },
  graphicsPassword: PASSWORD,
  video: { model: "virtio" },
  rng: {},
  watchdog: { action: "poweroff" },
  sound: { model: "ich9" },
  inputs: [{ type: "tablet" }, { type: "keyboard", bus: "virtio" }],
  memoryBalloon: { model: "none" },
};

function devicesXml(inputs: DomainInputs): string {
  const root = create().ele("devices");
  buildDevices(root, checkedDomain(inputs));
  return root.end({ headless: true });
}

const read = (xml: string) => readDevices(parseXml(xml, "devices"));

/** What classifyDeviceChanges says about going from `current` inputs to `wanted` ones. */
function changes(current: DomainInputs, wanted: DomainInputs) {
  const found: string[] = [];
  const have = read(devicesXml(current));
  const graphicsChanged =
    JSON.stringify(have.graphics) !== JSON.stringify(read(devicesXml(wanted)).graphics);
  classifyDeviceChanges(
    have,
    checkedDomain(wanted),
    (cls, property, detail) => found.push(`${property} ${cls}: ${detail}`),
    graphicsChanged,
  );
  return found;
}

describe("the display and small devices in the domain XML", () => {
  it("are written with the schema's defaults filled in", () => {
    const xml = devicesXml(everything);
    expect(xml).toContain(
      '<graphics type="vnc" port="-1" autoport="yes" listen="0.0.0.0" websocket="5700" passwd="s3cr3t!"/>',
    );
    expect(xml).toContain('<video><model type="virtio"/></video>');
    expect(xml).toContain(
      '<rng model="virtio"><backend model="random">/dev/urandom</backend></rng>',
    );
    expect(xml).toContain('<watchdog model="i6300esb" action="poweroff"/>');
    expect(xml).toContain('<sound model="ich9"/>');
    expect(xml).toContain('<input type="tablet" bus="usb"/><input type="keyboard" bus="virtio"/>');
    expect(xml).toContain('<memballoon model="none"/>');
  });

  it("are read back as written", () => {
    expect(
      read(
        devicesXml({ ...everything, graphics: { type: "spice", port: 5910 }, spiceAgent: true }),
      ),
    ).toEqual({
      graphics: { type: "spice", listen: "127.0.0.1", port: 5910 },
      graphicsPassword: PASSWORD,
      video: { model: "virtio" },
      spiceAgent: true,
      rng: { source: "/dev/urandom" },
      watchdog: { model: "i6300esb", action: "poweroff" },
      sound: { model: "ich9" },
      inputs: [
        { type: "tablet", bus: "usb" },
        { type: "keyboard", bus: "virtio" },
      ],
      memoryBalloon: { model: "none" },
    });
  });

  it("are read from libvirt's XML without what libvirt adds", () => {
    const libvirts = `<devices>
      <input type='tablet' bus='usb'><address type='usb' bus='0' port='1'/></input>
      <input type='mouse' bus='ps2'/><input type='keyboard' bus='ps2'/>
      <graphics type='vnc' port='-1' autoport='yes' websocket='5700' listen='127.0.0.1'>
        <listen type='address' address='127.0.0.1'/></graphics>
      <watchdog model='itco' action='reset'/>
      <watchdog model='i6300esb' action='pause'><alias name='watchdog1'/></watchdog>
      <rng model='virtio'><backend model='random'/></rng>
      <video><model type='qxl' ram='65536' vram='65536' vgamem='16384' heads='1' primary='yes'/></video>
    </devices>`;
    expect(read(libvirts)).toMatchObject({
      graphics: { type: "vnc", listen: "127.0.0.1", websocket: 5700 },
      graphicsPassword: undefined,
      watchdog: { model: "i6300esb", action: "pause" },
      rng: { source: "/dev/urandom" },
      video: { model: "qxl" },
      inputs: [{ type: "tablet", bus: "usb" }],
    });
  });

  it("write QEMU's own entropy source as libvirt's builtin backend, and read it back", () => {
    const xml = devicesXml({ ...base, rng: { source: "builtin" } });
    expect(xml).toBe('<devices><rng model="virtio"><backend model="builtin"/></rng></devices>');
    expect(read(xml).rng).toEqual({ source: "builtin" });
  });

  it("are part of the whole domain XML, and the display alone makes a device document", () => {
    expect(
      buildDomainXml({ inputs: checkedDomain(everything), disks: [], interfaces: [] }),
    ).toContain('<sound model="ich9"/>');
    expect(graphicsXml({ type: "vnc", listen: "127.0.0.1" }, "pw")).toBe(
      '<graphics type="vnc" port="-1" autoport="yes" listen="127.0.0.1" passwd="pw"/>',
    );
    expect(element(parseXml(devicesXml(base), "devices"), "graphics")).toBeUndefined();
  });
});

describe("a change to the display or a small device", () => {
  it("is nothing when the same inputs are read back", () => {
    expect(changes(everything, everything)).toEqual([]);
    expect(
      changes(
        { ...base, graphics: { type: "spice" }, spiceAgent: true },
        { ...base, graphics: { type: "spice" }, spiceAgent: true },
      ),
    ).toEqual([]);
  });

  it("is live for a new password on the same display, and says nothing of the password", () => {
    expect(changes(everything, { ...everything, graphicsPassword: "other" })).toEqual([
      "graphicsPassword live: graphicsPassword changed",
    ]);
    expect(changes({ ...everything, graphicsPassword: undefined }, everything)).toEqual([
      "graphicsPassword live: graphicsPassword changed",
    ]);
  });

  it("is a restart for a removed password, a new display and every device", () => {
    expect(changes(everything, { ...everything, graphicsPassword: undefined })).toEqual([
      "graphicsPassword config: graphicsPassword removed",
    ]);
    expect(changes(base, { ...base, graphics: { type: "vnc" }, graphicsPassword: "pw" })).toEqual([
      "graphicsPassword config: graphicsPassword changed",
    ]);
    expect(
      changes(everything, {
        ...everything,
        video: { model: "vga" },
        rng: { source: "/dev/random" },
        watchdog: {},
        sound: { model: "ac97" },
        inputs: [],
        memoryBalloon: { model: "virtio" },
      }).map((line) => line.split(":")[0]),
    ).toEqual([
      "video config",
      "memoryBalloon config",
      "rng config",
      "sound config",
      "watchdog config",
      "inputs config",
    ]);
  });

  it("leaves libvirt's video card and balloon alone when they are unset", () => {
    expect(
      changes({ ...base, video: { model: "cirrus" }, memoryBalloon: { model: "virtio" } }, base),
    ).toEqual([]);
  });

  it("removes an unset rng, sound, watchdog or input, unless an xmlPatch adds it", () => {
    const devices = {
      rng: {},
      sound: { model: "ac97" as const },
      watchdog: {},
      inputs: [{ type: "tablet" as const }],
    };
    expect(changes({ ...base, ...devices }, base)).toHaveLength(4);
    const patches = [
      "<rng model='virtio'/>",
      "<sound model='ac97'/>",
      "<watchdog model='i6300esb'/>",
      "<input type='tablet'/>",
    ].map((xml) => ({ parent: "devices", xml }));
    expect(changes({ ...base, ...devices }, { ...base, xmlPatches: patches })).toEqual([]);
  });

  it("takes q35's built-in watchdog, as libvirt lists it, for none", () => {
    expect(changes({ ...base, watchdog: { model: "itco" } }, base)).toEqual([]);
    expect(
      changes({ ...base, watchdog: { model: "itco" } }, { ...base, watchdog: { model: "itco" } }),
    ).toEqual([]);
    expect(changes({ ...base, watchdog: { model: "itco", action: "pause" } }, base)).toEqual([
      "watchdog config: watchdog changed",
    ]);
  });
});

describe("check() of the display and small devices", () => {
  const failures = (inputs: DomainInputs) =>
    checkDevices(checkedDomain(inputs)).map((failure) => failure.reason);

  it("accepts them all", () => {
    expect(failures(everything)).toEqual([]);
  });

  it("names the property and the fix, and never the password", () => {
    const found = [
      ...failures({ ...base, graphicsPassword: PASSWORD }),
      ...failures({ ...everything, graphicsPassword: `${PASSWORD}-too-long` }),
      ...failures({ ...base, graphics: { type: "spice", websocket: 5700 } }),
      ...failures({ ...base, graphics: { type: "vnc", port: 5900, websocket: 5900 } }),
      ...failures({ ...base, graphics: { type: "vnc" }, spiceAgent: true }),
      ...failures({ ...base, inputs: [{ type: "tablet" }, { type: "tablet", bus: "usb" }] }),
      ...failures({
        ...base,
        rng: {},
        xmlPatches: [{ parent: "devices", xml: "<rng model='virtio'/>" }],
      }),
    ];
    expect(found).toEqual([
      "graphicsPassword needs a display: set graphics too, or remove graphicsPassword",
      'graphicsPassword has 16 characters, and VNC uses only the first 8: use a password of at most 8 characters, or graphics.type "spice"',
      'graphics.websocket is for VNC only: use graphics.type "vnc", or remove websocket',
      "graphics.websocket 5900 is the display's own port: use another port, e.g. 5700",
      'spiceAgent needs a SPICE display: set graphics: { type: "spice" }, or spiceAgent: false',
      "inputs[1] repeats a usb tablet: remove it",
      "rng is set and an xmlPatch adds <rng> too: remove that patch, now that rng covers it",
    ]);
    for (const reason of found) expect(reason).not.toContain(PASSWORD);
  });
});
