import { keepIntent } from "./intent";
import { buildNwFilterXml, readNwFilterXml } from "./xml";

describe("network filter XML", () => {
  it("is built with references first and each rule's protocol element, and read back", () => {
    const inputs = {
      name: "web",
      chain: "ipv4",
      priority: -700,
      filterRefs: [{ filter: "base", parameters: { IP: "10.0.0.5" } }],
      rules: [
        {
          action: "accept",
          direction: "in",
          priority: 400,
          protocol: "tcp",
          match: { dstportstart: 22, comment: "a <b> & 'c'" },
        },
      ],
    };
    const xml = buildNwFilterXml(inputs, "8d7c0f5e-6a43-8b1e-9f00-0123456789ab");
    expect(xml.indexOf("<filterref")).toBeLessThan(xml.indexOf("<rule"));
    expect(readNwFilterXml(xml)).toEqual({
      ...inputs,
      uuid: "8d7c0f5e-6a43-8b1e-9f00-0123456789ab",
    });
  });

  it("reads a rule with no match attributes as an empty match", () => {
    const xml = `<filter name='x' chain='root' priority='0'><rule action='drop' direction='inout' priority='500'><all/></rule></filter>`;
    expect(readNwFilterXml(xml).rules).toEqual([
      { action: "drop", direction: "inout", priority: 500, protocol: "all", match: {} },
    ]);
  });
});

describe("keepIntent", () => {
  it("keeps per rule only what the user set, in the user's spelling where it means the same", () => {
    const previous = [
      { action: "accept", match: { srcmacaddr: "52:54:00:AB:00:01", state: "ESTABLISHED,NEW" } },
    ];
    const actual = [
      {
        action: "accept",
        priority: 500,
        match: { srcmacaddr: "52:54:00:ab:00:01", state: "NEW,ESTABLISHED" },
      },
    ];
    expect(keepIntent(previous, actual)).toEqual(previous);
  });

  it("shows a real change, and rules the user did not have", () => {
    const actual = [{ action: "drop" }, { action: "accept" }];
    expect(keepIntent([{ action: "accept" }], actual)).toEqual(actual);
  });
});
