/** A ResourceContext for calling resource code directly against the test bed. */
import type { Libvirt } from "../../rpc";
import type { ResourceContext } from "../../resources/kit/resource";

/**
 * Connects every host through `lv()` (read when asked: the connection is opened in `beforeAll`)
 * and keeps what the code logs or warns in `lines`, in order, for the test to look at.
 */
export function recordingContext(lv: () => Libvirt): { ctx: ResourceContext; lines: string[] } {
  const lines: string[] = [];
  const ctx: ResourceContext = {
    connect: async () => lv(),
    virsh: () => "virsh",
    log: (line) => lines.push(line),
    warn: (line) => lines.push(line),
    status: () => undefined,
  };
  return { ctx, lines };
}
