import { preserveUserIntent, sameHost, schemaDiff } from "./diff";
import { UNKNOWN } from "./check";

const outputs = {
  name: "p",
  type: "dir",
  targetPath: "/x",
  autostart: true,
  uuid: "u",
  capacity: 1,
};

describe("diff", () => {
  it("reports no change when the inputs match the last outputs", () => {
    expect(
      schemaDiff("Pool", outputs, {
        __kind: "Pool",
        __provider: "x",
        name: "p",
        type: "dir",
        targetPath: "/x",
        autostart: true,
      }),
    ).toMatchObject({
      changes: false,
      replaces: [],
    });
  });

  it("updates in place for autostart and replaces for the target path", () => {
    expect(schemaDiff("Pool", outputs, { ...outputs, autostart: false })).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(schemaDiff("Pool", outputs, { ...outputs, targetPath: "/y" })).toMatchObject({
      changes: true,
      replaces: ["targetPath"],
    });
  });

  it('sees unset, "" and "default" as the same host: the default one', () => {
    for (const [a, b] of [
      [undefined, "default"],
      ["", undefined],
      ["default", ""],
    ]) {
      expect(sameHost(a, b)).toBe(true);
      expect(schemaDiff("Pool", { ...outputs, host: a }, { ...outputs, host: b }).changes).toBe(
        false,
      );
    }
    expect(sameHost("kvm2", "default")).toBe(false);
    expect(sameHost(UNKNOWN, UNKNOWN)).toBe(false);
    expect(schemaDiff("Pool", outputs, { ...outputs, host: "kvm2" }).replaces).toEqual(["host"]);
  });

  it("treats a value unknown in preview as a change", () => {
    expect(schemaDiff("Pool", outputs, { ...outputs, targetPath: UNKNOWN }).replaces).toEqual([
      "targetPath",
    ]);
  });
});

describe("preserving user intent on read", () => {
  it("drops what libvirt reports for properties the user never set", () => {
    const previous = { name: "p", type: "dir", targetPath: "/x", permissions: { mode: "0755" } };
    const actual = {
      ...previous,
      permissions: { mode: "0755", owner: 0, group: 0 },
      source: { devices: [] },
      capacity: 5,
    };
    expect(preserveUserIntent("Pool", previous, actual)).toEqual({
      ...previous,
      permissions: { mode: "0755" },
      source: undefined,
      capacity: 5,
    });
  });

  it("reports a value that changed out of band", () => {
    const previous = { name: "p", autostart: true };
    expect(preserveUserIntent("Pool", previous, { name: "p", autostart: false }).autostart).toBe(
      false,
    );
  });
});
