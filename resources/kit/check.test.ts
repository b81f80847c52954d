import { UNKNOWN, applyDefaults, autoName, validateInputs } from "./check";

const pool = (fields: Record<string, unknown>) => ({
  __kind: "Pool",
  __logicalName: "images",
  ...fields,
});

describe("checking inputs against schema.json", () => {
  it("accepts valid inputs", () => {
    expect(
      validateInputs("Pool", pool({ type: "dir", targetPath: "/srv/images", autostart: false })),
    ).toEqual([]);
  });

  it("names a missing required property and how to fix it", () => {
    expect(validateInputs("Pool", pool({ type: "dir" }))).toEqual([
      { property: "targetPath", reason: "targetPath is required: set it in the Pool's arguments" },
    ]);
  });

  it("suggests the enum value the user probably meant", () => {
    expect(validateInputs("Pool", pool({ type: "dri", targetPath: "/x" }))[0]!.reason).toBe(
      'type must be one of "dir", "fs", "netfs", "logical", "disk", "iscsi"; got "dri" (did you mean "dir"?)',
    );
  });

  it("suggests the property the user probably meant", () => {
    expect(
      validateInputs("Pool", pool({ type: "dir", targetPath: "/x", autostrt: true }))[0],
    ).toEqual({
      property: "autostrt",
      reason: 'autostrt is not a property of Pool; did you mean "autostart"?',
    });
  });

  it("checks nested objects with their own rules", () => {
    const failures = validateInputs(
      "Pool",
      pool({ type: "dir", targetPath: "/x", permissions: { mode: "999", owner: -1 } }),
    );
    expect(failures.map((f) => f.property)).toEqual(["permissions.mode", "permissions.owner"]);
    expect(failures[0]!.reason).toBe(
      'permissions.mode "999" is not valid: use octal permission bits from 000 to 777, such as "0755"',
    );
  });

  it("takes a pool's permissions only as libvirt does: bits up to 0777, ids that fit uid_t", () => {
    const permissions = (value: Record<string, unknown>) =>
      validateInputs("Pool", pool({ type: "dir", targetPath: "/x", permissions: value }));
    for (const mode of ["755", "0755", "0000", "0777"]) expect(permissions({ mode })).toEqual([]);
    for (const mode of ["01100", "1755", "07777"]) expect(permissions({ mode })).toHaveLength(1);
    expect(permissions({ owner: 4294967294, group: 4294967294 })).toEqual([]);
    expect(permissions({ owner: 4294967295, group: 9007199254740988 })).toHaveLength(2);
  });

  it("refuses names libvirt would refuse, before anything is sent", () => {
    for (const name of ["has space", "a/b", "x".repeat(101), "-lead", "<xml>"]) {
      expect(validateInputs("Pool", pool({ type: "dir", targetPath: "/x", name }))).toHaveLength(1);
    }
  });

  it("leaves values unknown in preview unchecked", () => {
    expect(validateInputs("Pool", pool({ type: UNKNOWN, targetPath: UNKNOWN }))).toEqual([]);
  });
});

describe("defaults and auto-names", () => {
  it("fills defaults and names the resource <logical name>-<7 hex>", () => {
    const inputs = applyDefaults("Pool", {}, pool({ type: "dir", targetPath: "/x" }));
    expect(inputs.autostart).toBe(true);
    expect(inputs.deleteTargetOnDestroy).toBe(false);
    expect(inputs.name).toMatch(/^images-[0-9a-f]{7}$/);
  });

  it("keeps the auto-name on later updates", () => {
    const first = applyDefaults("Pool", {}, pool({ type: "dir", targetPath: "/x" }));
    const again = applyDefaults("Pool", first, pool({ type: "dir", targetPath: "/y" }));
    expect(again.name).toBe(first.name);
  });

  it("uses the user's name and does not keep an auto-name the user replaced", () => {
    const first = applyDefaults("Pool", {}, pool({ type: "dir", targetPath: "/x" }));
    expect(
      applyDefaults("Pool", first, pool({ type: "dir", targetPath: "/x", name: "mine" })).name,
    ).toBe("mine");
  });

  it("fills the defaults of properties inside an object input and keeps what is set", () => {
    const domain = (fields: Record<string, unknown>) =>
      applyDefaults("Domain", {}, { __kind: "Domain", __logicalName: "vm", ...fields });
    expect(domain({ waitForCloudInit: {} }).waitForCloudInit).toEqual({ timeout: 900 });
    expect(domain({ waitForCloudInit: { timeout: 60 } }).waitForCloudInit).toEqual({
      timeout: 60,
    });
    expect(domain({})).not.toHaveProperty("waitForCloudInit");
    expect(domain({ waitForCloudInit: UNKNOWN }).waitForCloudInit).toBe(UNKNOWN);
  });

  it("makes auto-names libvirt accepts from any logical name", () => {
    expect(autoName("my lab/images")).toMatch(/^my-lab-images-[0-9a-f]{7}$/);
  });
});
