/**
 * The display's options and the small devices of a Domain through the real plugin against the
 * test bed: a guest with a VNC display (password, websocket), a video card, rng, watchdog, sound,
 * inputs and a balloon boots, reads back with no diff, takes a new password live (the same QEMU
 * process) and a new watchdog action with a restart; the password never shows in clear in the
 * state or the log. A SPICE display with the SPICE agent is defined shut off where QEMU has SPICE
 * (else SPICE and QXL are refused at preview, naming the property), with a virtio console on a
 * UNIX socket, changed to a TCP one. A watchdog the host cannot have is refused at preview.
 */
import { randomBytes, randomInt } from "node:crypto";
import { join } from "node:path";
import { DomainXMLFlags, parseUuid } from "../../rpc";
import type { DomainInputs } from "../../resources/kit/generated/types";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL, waitForConsole } from "../support/guest";
import { PropertyMap, isSecret, reveal, secret } from "../support/pulumi-wire";
import { uniqueName } from "../support/testbed";
import { SECRET_OUTPUTS, resourceInputs, virtwireType } from "../support/virtwire-engine";
import { useDomainBed } from "../support/domain-bed";

const DOMAIN = virtwireType("Domain");
/** VNC takes 8 characters at most; made at run time, distinct enough to find anywhere it leaks. */
const PASSWORDS = [1, 2].map(() => `vw${randomBytes(3).toString("hex")}`);

jest.setTimeout(180_000);

const bed = useDomainBed("display");

/** One libvirt name per resource name, for the whole file. */
const names = new Map<string, string>();
const nameOf = (name: string) => names.get(name) ?? names.set(name, uniqueName(name)).get(name)!;

const guest = (name: string, extra: Partial<DomainInputs> = {}): DomainInputs => ({
  name: nameOf(name),
  type: "qemu",
  memory: "128MiB",
  kernel: GUEST_KERNEL,
  initrd: GUEST_INITRD,
  cmdline: GUEST_CMDLINE,
  console: { type: "file", path: join(bed.scratch, `${name}.log`) },
  shutdownTimeout: 5,
  ...extra,
});

/** `pulumi up` as the generated SDK does it: the password a secret input and a secret output. */
async function up(name: string, args: DomainInputs) {
  const printed = bed.virtwire.plugin.mark();
  const props = resourceInputs("Domain", name, args as PropertyMap);
  if (args.graphicsPassword !== undefined) props.graphicsPassword = secret(args.graphicsPassword);
  const step = await bed.engine.up(DOMAIN, name, props, {
    additionalSecretOutputs: SECRET_OUTPUTS.Domain,
  });
  if (args.graphicsPassword !== undefined)
    expect(isSecret(step.outputs.graphicsPassword)).toBe(true);
  return { ...step, outputs: reveal(step.outputs) as Record<string, unknown>, log: printed() };
}

async function xmlOf(id: string, flags: number): Promise<string> {
  const { dom } = await bed.lv.DomainLookupByUUID({ uuid: parseUuid(id) });
  return (await bed.lv.DomainGetXMLDesc({ dom, flags })).xml;
}

async function qemuId(id: string): Promise<number> {
  return (await bed.lv.DomainLookupByUUID({ uuid: parseUuid(id) })).dom.id;
}

it("boots a guest with its display and devices, changes the password live and the watchdog with a restart", async () => {
  const websocket = randomInt(5700, 5800);
  const args = (password: string, action: "poweroff" | "pause") =>
    guest("display", {
      graphics: { type: "vnc", websocket },
      graphicsPassword: password,
      video: { model: "vga" },
      // QEMU's own source: the libvirt 11 test bed's QEMU cannot open /dev/urandom in its
      // namespace (the define-only test below has /dev/urandom, on both daemons).
      rng: { source: "builtin" },
      watchdog: { action },
      sound: { model: "ich6" },
      inputs: [{ type: "tablet" }, { type: "keyboard", bus: "virtio" }],
      memoryBalloon: { model: "virtio" },
    });
  let started = Date.now();
  const created = await up("display", args(PASSWORDS[0]!, "poweroff"));
  expect(created.step).toBe("create");
  await waitForConsole(join(bed.scratch, "display.log"), /VIRTWIRE-GUEST: booted/);
  const booted = Date.now() - started;
  started = Date.now();
  const inactive = await xmlOf(created.id, DomainXMLFlags.INACTIVE | DomainXMLFlags.SECURE);
  expect(inactive).toContain(`passwd='${PASSWORDS[0]}'`);
  expect(inactive).toMatch(/<watchdog model='i6300esb' action='poweroff'/);
  expect(inactive).toMatch(/<backend model='builtin'\/>/);
  expect(created.outputs).toMatchObject({
    graphics: { type: "vnc", listen: "127.0.0.1", websocket },
    graphicsPassword: PASSWORDS[0],
    video: { model: "vga" },
    spiceAgent: false,
    rng: { source: "builtin" },
    watchdog: { model: "i6300esb", action: "poweroff" },
    sound: { model: "ich6" },
    inputs: [
      { type: "tablet", bus: "usb" },
      { type: "keyboard", bus: "virtio" },
    ],
    memoryBalloon: { model: "virtio" },
  });
  expect((await up("display", args(PASSWORDS[0]!, "poweroff"))).step).toBe("same");

  const running = await qemuId(created.id);
  const live = await up("display", args(PASSWORDS[1]!, "poweroff"));
  expect(live.log).toContain("graphicsPassword changed [live]");
  expect(await qemuId(created.id)).toBe(running);
  expect(await xmlOf(created.id, DomainXMLFlags.SECURE)).toContain(`passwd='${PASSWORDS[1]}'`);
  expect(await xmlOf(created.id, DomainXMLFlags.INACTIVE | DomainXMLFlags.SECURE)).toContain(
    `passwd='${PASSWORDS[1]}'`,
  );

  const restarted = await up("display", args(PASSWORDS[1]!, "pause"));
  expect(restarted.log).toContain("watchdog changed [restart]");
  expect(await qemuId(created.id)).not.toBe(running);
  expect(restarted.outputs.watchdog).toEqual({ model: "i6300esb", action: "pause" });
  expect((await up("display", args(PASSWORDS[1]!, "pause"))).step).toBe("same");

  const everything = [
    created.log,
    live.log,
    restarted.log,
    bed.engine.stateJson(),
    JSON.stringify(live.diff),
  ].join("\n");
  for (const password of PASSWORDS) expect(everything).not.toContain(password);
  const changes = Date.now() - started;
  console.log(`display guest: up and booted ${booted} ms; the checks and four ups ${changes} ms`);
});

it("defines a SPICE display with its agent where QEMU has SPICE, and refuses at preview what the host lacks", async () => {
  const { capabilities } = await bed.lv.ConnectGetDomainCapabilities({
    emulatorbin: null,
    arch: null,
    machine: null,
    virttype: "qemu",
    flags: 0,
  });
  // Debian 13's QEMU in the libvirt 11 test bed has neither SPICE nor QXL installed.
  const hasSpice = /<value>spice<\/value>/.test(capabilities);
  const args = guest("spice", {
    running: false,
    graphics: { type: "spice" },
    spiceAgent: true,
    video: { model: hasSpice ? "qxl" : "virtio" },
    rng: {},
    console: { type: "unix", path: join(bed.scratch, "spice.sock"), target: "virtio" },
  });
  const refusal = (name: string, extra: Partial<DomainInputs>) =>
    bed.engine
      .preview(DOMAIN, name, resourceInputs("Domain", name, guest(name, extra) as PropertyMap))
      .then(
        () => "accepted",
        (error: Error) => error.message,
      );
  let defined: { name: string; args: DomainInputs };
  if (hasSpice) {
    const created = await up("spice", args);
    expect(created.outputs).toMatchObject({
      spiceAgent: true,
      video: { model: "qxl" },
      rng: { source: "/dev/urandom" },
    });
    expect(await xmlOf(created.id, DomainXMLFlags.INACTIVE)).toMatch(
      /<channel type='spicevmc'>\s*<target type='virtio' name='com.redhat.spice.0'\/>/,
    );
    defined = { name: "spice", args };
  } else {
    expect(await refusal("spice", args)).toMatch(
      /graphics\.type "spice" is not offered by QEMU on this host \(it offers .*"vnc".*\): use one of those/,
    );
    expect(await refusal("qxl", { running: false, video: { model: "qxl" } })).toMatch(
      /video\.model "qxl" is not offered by QEMU on this host/,
    );
    defined = { name: "urandom", args: { ...args, graphics: { type: "vnc" }, spiceAgent: false } };
    const created = await up(defined.name, defined.args);
    expect(created.outputs.rng).toEqual({ source: "/dev/urandom" });
  }
  const first = await up(defined.name, defined.args);
  expect(first.step).toBe("same");
  expect(first.outputs.console).toEqual({
    type: "unix",
    path: join(bed.scratch, "spice.sock"),
    target: "virtio",
  });
  expect(await xmlOf(first.id, DomainXMLFlags.INACTIVE)).not.toContain("<serial");
  const port = randomInt(20000, 30000);
  const tcp = await up(defined.name, { ...defined.args, console: { type: "tcp", port } });
  expect(tcp.log).toContain("console changed [while shut off]");
  expect(tcp.outputs.console).toEqual({ type: "tcp", listen: "127.0.0.1", port });
  expect((await up(defined.name, { ...defined.args, console: { type: "tcp", port } })).step).toBe(
    "same",
  );
  expect(await refusal("s390dog", { running: false, watchdog: { model: "diag288" } })).toMatch(
    /watchdog is refused by libvirt on this host: .*; change or remove watchdog/,
  );
});
