import { readPoolXml, sameMode, sanitizePath } from "./xml";

describe("a pool's target path as libvirt stores it", () => {
  it.each([
    ["/srv/pool", "/srv/pool"],
    ["/srv/pool/", "/srv/pool"],
    ["/srv//pool///", "/srv/pool"],
    ["///srv/pool", "/srv/pool"],
    ["//srv/pool", "//srv/pool"],
    ["/", "/"],
  ])("is %s for %s", (given, stored) => {
    expect(sanitizePath(given)).toBe(stored);
  });
});

describe("a pool's permissions as libvirt prints them", () => {
  const described = (permissions: string) =>
    readPoolXml(
      `<pool type='dir'><name>p</name><target><path>/p</path><permissions>${permissions}</permissions></target></pool>`,
    ).permissions;

  it("read ids past 2^31 - 1, which libvirt prints as negative ints, as given", () => {
    expect(described("<mode>0110</mode><owner>-5</owner><group>-4</group>")).toEqual({
      mode: "0110",
      owner: 4294967291,
      group: 4294967292,
    });
  });

  it("read -1 as no id", () => {
    expect(described("<mode>0755</mode><owner>-1</owner><group>0</group>")).toEqual({
      mode: "0755",
      owner: undefined,
      group: 0,
    });
  });

  it("compare modes by their bits", () => {
    expect(sameMode("022", "0022")).toBe(true);
    expect(sameMode("755", "0750")).toBe(false);
    expect(sameMode(undefined, "0755")).toBe(false);
  });
});
