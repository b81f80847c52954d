import { checkedDomain } from "./normalize";
import type { DomainInputs } from "../kit/generated/types";
import { checkEdits, editsPreview } from "./check-edits";
import { describedAsInputs } from "./edits-read";
import { planDomain } from "./plan";
import { buildEditedDomainXml } from "./xml-build";
import { readDomainXml } from "./xml-read";

const guest: DomainInputs = {
  name: "web",
  vcpu: 2,
  memory: "128MiB",
  xmlEdits: [{ xpath: "/domain/vcpu", value: "4" }],
};

const built = (inputs: DomainInputs) =>
  readDomainXml(buildEditedDomainXml(planDomain(inputs, undefined, new Map())).xml);

describe("xmlEdits at preview", () => {
  it("refuses an XPath that selects nothing, naming the edit's index and expression", () => {
    const inputs = checkedDomain({
      ...guest,
      xmlEdits: [guest.xmlEdits![0]!, { xpath: "//tpm", remove: true }],
    });
    expect(checkEdits(inputs)).toEqual([
      {
        property: "xmlEdits[1]",
        reason: expect.stringMatching(/^xmlEdits\[1\] selects nothing: "\/\/tpm"/),
      },
    ]);
  });

  it("refuses an edit as written before trying it", () => {
    expect(checkEdits(checkedDomain({ ...guest, xmlEdits: [{ xpath: "vcpu" }] }))[0]!.reason).toBe(
      "xmlEdits[0] needs exactly one of value, xml or remove: true",
    );
  });

  it("shows what the edits change, for the diff's line", () => {
    expect(editsPreview(checkedDomain(guest))).toBe(
      ": [0] /domain/vcpu: <vcpu>2</vcpu> → <vcpu>4</vcpu>",
    );
  });
});

describe("the display password under xmlEdits", () => {
  const displayed: DomainInputs = {
    ...guest,
    graphics: { type: "vnc" },
    graphicsPassword: "s3cr'et&",
    xmlEdits: [{ xpath: "/domain/devices/graphics", xml: '<graphics type="spice"/>' }],
  };

  it("masks passwd in the nodes the preview shows, and the password wherever else it is", () => {
    const preview = editsPreview(checkedDomain(displayed));
    expect(preview).toContain('passwd="***"');
    expect(preview).not.toContain("s3cr");
    const removed = { ...displayed, xmlEdits: [{ xpath: "//devices", remove: true }] };
    expect(editsPreview(checkedDomain(removed))).not.toContain("s3cr");
  });

  it.each([
    [{ xpath: "/domain/devices/graphics/@passwd", value: "other" }],
    [{ xpath: "//graphics[@passwd='s3cr']", remove: true }],
    [{ xpath: "//graphics", xml: "<graphics type='vnc' passwd='other'/>" }],
    [{ xpath: "//graphics/@*", value: "x" }],
  ])("refuses an edit that selects or sets passwd, naming graphicsPassword: %j", (edit) => {
    const inputs = checkedDomain({ ...displayed, xmlEdits: [guest.xmlEdits![0]!, edit] });
    expect(checkEdits(inputs)).toEqual([
      {
        property: "xmlEdits[1]",
        reason: expect.stringMatching(
          /^xmlEdits\[1\] selects or sets the display password \(passwd\).*use graphicsPassword/,
        ),
      },
    ]);
  });
});

describe("read-back under xmlEdits", () => {
  it("reports an overridden property as its input while libvirt holds the edited value", () => {
    const live = built(guest);
    expect(live.vcpu).toBe(4);
    expect(describedAsInputs(live, guest).vcpu).toBe(2);
  });

  it("reports a value changed outside virtwire as it is, so it shows as a diff", () => {
    const drifted = built({ ...guest, xmlEdits: [{ xpath: "/domain/vcpu", value: "8" }] });
    expect(describedAsInputs(drifted, guest).vcpu).toBe(8);
  });

  it("leaves what no edit touches as libvirt has it", () => {
    const live = { ...built(guest), memoryBytes: 256 * 1024 * 1024 };
    expect(describedAsInputs(live, guest).memoryBytes).toBe(256 * 1024 * 1024);
  });
});
