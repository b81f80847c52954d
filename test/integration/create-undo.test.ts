/**
 * Once a create has made its object in libvirt, every later failure removes it again: an error
 * leaves the engine without the object's id, so an object left behind would be outside the state.
 * Against the test bed daemon, through each kind's create handler: a pool whose build fails, a
 * network whose start fails, and for every kind a connection that dies just before the object is
 * read back (resources/<kind>/handlers.ts run that read inside the clean-up; it used to come after
 * it for domains, networks and pools). A domain that fails to start, or gets no address in time,
 * is removed too (domain-resource.test.ts).
 *
 * A daemon cannot be made to drop the connection between two particular calls, so that one fault
 * is made here: the connection the create is given fails the read-back call the way a closed
 * connection fails it, and the clean-up asks for a connection again, as after a real drop, and
 * gets the real one.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConnectionClosedError,
  Libvirt,
  RemoteNonnullStoragePool,
  isNotFound,
} from "../../rpc/internal";
import type { ResourceContext, ResourceHandlers } from "../../resources/kit/resource";
import { cloudInitDiskHandlers } from "../../resources/cloud-init-disk/handlers";
import { domainHandlers } from "../../resources/domain/handlers";
import { networkHandlers } from "../../resources/network/handlers";
import { poolHandlers } from "../../resources/pool/handlers";
import { volumeHandlers } from "../../resources/volume/handlers";
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import {
  connectTestbed,
  dirPoolXml,
  isolatedNetworkXml,
  randomSubnet,
  removePool,
  uniqueName,
} from "../support/testbed";

let lv: Libvirt;
let scratch: string;
let pool: RemoteNonnullStoragePool;

beforeAll(async () => {
  lv = await connectTestbed();
  scratch = await mkdtemp(join(tmpdir(), "vwtest-undo-"));
  ({ pool } = await lv.StoragePoolCreateXML({
    xml: dirPoolXml(uniqueName("undo"), scratch),
    flags: 0,
  }));
});

afterAll(async () => {
  if (pool) await removePool(lv, pool);
  await rm(scratch, { recursive: true, force: true });
  await lv?.close();
});

/**
 * A context whose first connection fails `call` once, as a connection that closed fails it; each
 * later `connect` (the clean-up's) gives the real connection. `lines` collects what is logged.
 */
function contextFailing(call?: string): { ctx: ResourceContext; lines: string[] } {
  let failed = false;
  let connections = 0;
  const broken = new Proxy(lv, {
    get(target, property) {
      if (property === call && !failed) {
        return async () => {
          failed = true;
          throw new ConnectionClosedError(`the connection closed before ${call} was answered`);
        };
      }
      const value = Reflect.get(target, property) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const lines: string[] = [];
  const urn = `urn:pulumi:test::undo::virtwire:index:X::${uniqueName("undo")}`;
  const ctx: ResourceContext = {
    connect: async () => (connections++ === 0 ? broken : lv),
    virsh: () => "virsh",
    log: (line) => lines.push(line),
    warn: (line) => lines.push(line),
    status: () => undefined,
    owner: { urn, mark: urn, fresh: true },
  };
  return { ctx, lines };
}

/** Whether `lookup` finds the object no more (libvirt says "no such …"). */
const gone = (lookup: () => Promise<unknown>) =>
  lookup().then(
    () => false,
    (error) => (isNotFound(error) ? true : Promise.reject(error)),
  );

type AnyHandlers = ResourceHandlers<Record<string, unknown>, Record<string, unknown>>;

/** Runs a create that must fail; returns its error. */
async function failedCreate(handlers: unknown, inputs: object, ctx: ResourceContext) {
  const create = (handlers as AnyHandlers).create(inputs as Record<string, unknown>, ctx);
  return create.then(
    () => Promise.reject(new Error("the create succeeded; it was to fail")),
    (error: Error) => error,
  );
}

describe("a create that fails once its object exists", () => {
  it("removes a pool whose directory cannot be built", async () => {
    const name = uniqueName("undo");
    const file = join(scratch, `${name}.file`);
    await writeFile(file, "a file, where the pool's parent directory would go");
    const inputs = { name, type: "dir", targetPath: join(file, "pool"), autostart: true };
    const error = await failedCreate(poolHandlers, inputs, contextFailing().ctx);
    expect(error.message).toMatch(/cannot create path .*: Not a directory/);
    expect(await gone(() => lv.StoragePoolLookupByName({ name }))).toBe(true);
  });

  it("removes a network that cannot start", async () => {
    const name = uniqueName("undo");
    // A running network of this test holds the subnet, so libvirt refuses to start a second one
    // on it. (Not a bridge named after an existing interface such as lo: libvirt 11 takes that
    // interface down when the start fails, and lo of the daemon's namespace with it.)
    const subnet = randomSubnet();
    const holder = uniqueName("undo-holder");
    const { net } = await lv.NetworkCreateXML({ xml: isolatedNetworkXml(holder, subnet) });
    try {
      const inputs = {
        name,
        mode: "isolated",
        addresses: [{ address: `${subnet}.1`, prefix: 24 }],
        autostart: false,
      };
      const error = await failedCreate(networkHandlers, inputs, contextFailing().ctx);
      expect(error.message).toMatch(/already in use/);
      expect(await gone(() => lv.NetworkLookupByName({ name }))).toBe(true);
    } finally {
      await lv.NetworkDestroy({ net });
    }
  });

  const cases: [string, unknown, () => object, string, (name: string) => Promise<unknown>][] = [
    [
      "a pool",
      poolHandlers,
      () => ({ type: "dir", targetPath: join(scratch, "p"), autostart: false }),
      "StoragePoolGetAutostart",
      (name) => lv.StoragePoolLookupByName({ name }),
    ],
    [
      "a network",
      networkHandlers,
      () => ({ mode: "isolated", addresses: [{ address: `${randomSubnet()}.1`, prefix: 24 }] }),
      "NetworkGetAutostart",
      (name) => lv.NetworkLookupByName({ name }),
    ],
    [
      "a running domain",
      domainHandlers,
      () => ({
        type: "qemu",
        memory: "128MiB",
        kernel: GUEST_KERNEL,
        initrd: GUEST_INITRD,
        cmdline: GUEST_CMDLINE,
        console: { type: "file", path: join(scratch, "console.log") },
        shutdownTimeout: 0,
      }),
      "DomainGetAutostart",
      (name) => lv.DomainLookupByName({ name }),
    ],
    [
      "a volume",
      volumeHandlers,
      () => ({ pool: pool.name, capacity: "1MiB" }),
      "StorageVolGetXMLDesc",
      (name) => lv.StorageVolLookupByName({ pool, name }),
    ],
    [
      "a cloud-init disk",
      cloudInitDiskHandlers,
      () => ({ pool: pool.name, userData: "#cloud-config\n" }),
      "StorageVolGetXMLDesc",
      (name) => lv.StorageVolLookupByName({ pool, name }),
    ],
  ];

  it.each(cases)(
    "removes %s when the connection drops as it is read back",
    async (_what, handlers, args, call, lookup) => {
      const name = uniqueName("undo");
      const { ctx } = contextFailing(call);
      const error = await failedCreate(handlers, { ...args(), name }, ctx);
      expect(error).toBeInstanceOf(ConnectionClosedError);
      expect(error.message).toBe(`the connection closed before ${call} was answered`);
      expect(await gone(() => lookup(name))).toBe(true);
    },
  );
});
