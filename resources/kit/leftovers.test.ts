import { LeftBehindError, undoHalfMade } from "./leftovers";
import type { HalfMade } from "./leftovers";
import type { ResourceContext } from "./resource";

/** A context whose host cannot be reached again, as after a daemon was killed. */
const unreachable: ResourceContext = {
  connect: () => Promise.reject(new Error("connection refused")),
  virsh: () => "virsh -c 'qemu+ssh://root@kvm1/system'",
  log: () => undefined,
  warn: () => undefined,
  status: () => undefined,
};

const halfMade = (fields: Partial<HalfMade>): HalfMade => ({
  host: "kvm1",
  what: "storage pool images-1a2b3c4, perhaps active",
  marked: true,
  byHand: (virsh) => `${virsh} pool-destroy images-1a2b3c4`,
  ...fields,
});

const noteOf = async (object: HalfMade) => {
  const error = await undoHalfMade(unreachable, new Error("create failed"), object, async () => {});
  expect(error).toBeInstanceOf(LeftBehindError);
  return (error as LeftBehindError).note;
};

describe("the note on an object a failed create could not remove", () => {
  it("gives virsh commands for the object's own host", async () => {
    expect(await noteOf(halfMade({}))).toContain(
      "virsh -c 'qemu+ssh://root@kvm1/system' pool-destroy images-1a2b3c4",
    );
  });

  it("promises removal by the next up only with the same inputs when it is found by name", async () => {
    expect(await noteOf(halfMade({ foundByName: true }))).toContain(
      "The next `pulumi up` with the same inputs removes it",
    );
    expect(await noteOf(halfMade({}))).toContain("The next `pulumi up` removes it");
  });

  it("asks for removal by hand when the object carries no mark", async () => {
    expect(await noteOf(halfMade({ marked: false }))).toContain(
      "Remove it before the next `pulumi up`",
    );
  });
});
