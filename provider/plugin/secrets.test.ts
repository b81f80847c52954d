import { withSecrets } from "./secrets";

const DOMAIN = "urn:pulumi:dev::lab::virtwire:index:Domain::vm";
const SECRET = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

describe("outputs the schema marks secret", () => {
  it("go back to the engine as secrets, in outputs and in an import's inputs", () => {
    const props = { name: "vm", graphicsPassword: "hunter2" };
    for (const which of ["outputs", "inputs"] as const) {
      expect(withSecrets(DOMAIN, props, which)).toEqual({
        name: "vm",
        graphicsPassword: { ...SECRET, value: "hunter2" },
      });
    }
  });

  it("are left alone when unset, already secret, or of a kind without secrets", () => {
    const wrapped = { ...SECRET, value: "x" };
    expect(withSecrets(DOMAIN, { graphicsPassword: wrapped }, "outputs")).toEqual({
      graphicsPassword: wrapped,
    });
    expect(withSecrets(DOMAIN, { name: "vm" }, "outputs")).toEqual({ name: "vm" });
    const pool = "urn:pulumi:dev::lab::virtwire:index:Pool::p";
    expect(withSecrets(pool, { name: "p" }, "outputs")).toEqual({ name: "p" });
  });
});
