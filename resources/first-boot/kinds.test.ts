import { UNKNOWN } from "../kit/check";
import { combustionScriptHandlers, ignitionConfigHandlers } from "./kinds";

const SECRET = "$6$hunter2";

describe("IgnitionConfig at preview", () => {
  const check = (content: unknown) =>
    ignitionConfigHandlers.check!({ pool: "images", content } as never);

  it("takes a JSON object with ignition.version", () => {
    expect(check(JSON.stringify({ ignition: { version: "3.4.0" }, passwd: {} }))).toEqual([]);
    expect(check(UNKNOWN)).toEqual([]);
  });

  it.each([
    [
      `{"ignition": {"version": "3.4.0"}, "passwd": "${SECRET}"`,
      /not valid JSON \(at character \d+\)/,
    ],
    [`variant: fcos\nversion: 1.5.0\npassword: ${SECRET}`, /not valid JSON.*butane/],
    ["[]", /not an object/],
    [`{"passwd": "${SECRET}"}`, /no ignition\.version/],
    ['{"ignition": {"version": 3}}', /no ignition\.version/],
  ])("refuses %j, naming content without quoting it", (content, reason) => {
    const [failure] = check(content);
    expect(failure).toEqual({ property: "content", reason: expect.stringMatching(reason) });
    expect(failure!.reason).not.toContain("hunter2");
  });

  it("says no position when the parser's message gives none (content cut short)", () => {
    expect(check('{"ignition": {"version": "3.4.0"}, "passwd": ')).toEqual([
      {
        property: "content",
        reason:
          "content is not valid JSON: Ignition fails the first boot on it; write the config as JSON (e.g. made by butane)",
      },
    ]);
  });
});

describe("CombustionScript at preview", () => {
  const check = (script: string) =>
    combustionScriptHandlers.check!({ pool: "images", script } as never);

  it("takes a script with an interpreter line", () => {
    expect(check("#!/bin/bash\n# combustion: network\necho ok\n")).toEqual([]);
  });

  it("refuses a script without #!, naming the fix", () => {
    expect(check(`echo 'root:${SECRET}' | chpasswd -e\n`)).toEqual([
      {
        property: "script",
        reason: expect.stringMatching(/does not start with #! \(e\.g\. #!\/bin\/bash\)/),
      },
    ]);
  });
});

describe("first-boot config names", () => {
  const diff = (olds: object, news: object) =>
    ignitionConfigHandlers.diff!("/srv/images/x", olds as never, news as never);
  const given = {
    __logicalName: "node",
    pool: "images",
    content: '{"ignition":{"version":"3.4.0"}}',
  };

  it("replace the volume on a content change, the new one beside the old", async () => {
    const created = await ignitionConfigHandlers.check!(given as never);
    expect(created).toEqual([]);
    const olds = {
      ...given,
      name: "node-0000000",
      key: "/srv/images/node-0000000",
      path: "",
      size: 1,
    };
    // The name carries a hash of the content: a new content is a new name, created first.
    const changed = await diff(olds, { ...given, content: '{"ignition":{"version":"3.5.0"}}' });
    expect(changed).toMatchObject({ changes: true, deleteBeforeReplace: false });
    expect(changed.replaces).toEqual(expect.arrayContaining(["content", "name"]));
  });
});
