/**
 * The graceful stop against the test bed daemon: the tiny guest powers off on the ACPI power
 * button, and stopDomain goes on when libvirt reports the domain stopped (lifecycle event STOPPED),
 * not at its next poll, and leaves no event registration behind.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Libvirt, RemoteNonnullDomain } from "../../rpc";
import { stopDomain } from "../../resources/domain/power";
import { guestDomainXml, waitForConsole } from "../support/guest";
import { connectTestbed, uniqueName } from "../support/testbed";

let lv: Libvirt;
let dom: RemoteNonnullDomain;
let scratch: string;

beforeAll(async () => {
  lv = await connectTestbed();
  scratch = await mkdtemp(join(tmpdir(), "vwtest-stop-"));
  const serialLog = join(scratch, "console.log");
  const xml = guestDomainXml(uniqueName("stop"), { serialLog });
  ({ dom } = await lv.DomainDefineXMLFlags({ xml, flags: 0 }));
  await lv.DomainCreate({ dom });
  await waitForConsole(serialLog, /VIRTWIRE-GUEST: ready/, 90_000);
}, 120_000);

afterAll(async () => {
  if (dom) {
    await lv.DomainDestroy({ dom }).catch(() => undefined);
    await lv.DomainUndefineFlags({ dom, flags: 0 }).catch(() => undefined);
  }
  await lv?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe("stopping a running guest gracefully", () => {
  it("goes on as soon as libvirt reports the domain stopped, and leaves no registration", async () => {
    const stoppedAt: number[] = [];
    // For every domain: libvirt takes one registration per domain and event on a connection,
    // and stopDomain makes its own.
    const watch = await lv.events.onDomainLifecycle(
      (event) =>
        void (
          event.dom.name === dom.name &&
          event.event === "STOPPED" &&
          stoppedAt.push(Date.now())
        ),
    );
    const registrations = lv.events.size;
    const how = await stopDomain(lv, dom, 60);
    const returnedAt = Date.now();
    await watch.unsubscribe();
    expect(how).toBe("graceful");
    expect(lv.events.size).toBe(registrations - 1);
    expect(stoppedAt).toHaveLength(1);
    // One DomainIsActive after the event; polling alone would wait up to 250 ms more.
    expect(returnedAt - stoppedAt[0]!).toBeLessThan(150);
  }, 90_000);
});
