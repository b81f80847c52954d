import { closest } from "./suggest";

describe("closest", () => {
  it("finds a name one or two edits away", () => {
    expect(closest("autostrt", ["name", "autostart"])).toBe("autostart");
    expect(closest("pswrd", ["password"])).toBeUndefined();
  });

  it("ignores case", () => {
    expect(closest("sshPrivatekey", ["sshPrivateKey"])).toBe("sshPrivateKey");
  });

  it("prefers the nearest of several close names, then the first listed", () => {
    expect(closest("shPassword", ["password", "sshPassword"])).toBe("sshPassword");
    expect(closest("dor", ["dir", "dar"])).toBe("dir");
  });
});
