import type { DomainInputs, DomainXmlEdit } from "../kit/generated/types";
import { parseXml } from "../kit/xml";
import { planDomain } from "./plan";
import { buildEditedDomainXml } from "./xml-build";
import { EditError, describeOutcomes, editProblem } from "./xml-edits";
import { readDomainXml } from "./xml-read";

const guest: DomainInputs = {
  name: "web",
  vcpu: 2,
  memory: "128MiB",
  disks: [{ file: "/img/root.qcow2" }, { device: "cdrom", file: "/isos/tools.iso" }],
  networkInterfaces: [{ network: "lab", mac: "52:54:00:00:00:01" }],
  xmlPatches: [{ parent: "devices", xml: "<rng model='virtio'><backend model='random'/></rng>" }],
};

function edited(...xmlEdits: DomainXmlEdit[]) {
  return buildEditedDomainXml(planDomain({ ...guest, xmlEdits }, undefined, new Map()));
}

describe("xmlEdits", () => {
  it("sets an element's text, which the XML then reads back as", () => {
    const { xml, edits } = edited({ xpath: "/domain/vcpu", value: "4" });
    expect(readDomainXml(xml).vcpu).toBe(4);
    expect(describeOutcomes(edits)).toBe("[0] /domain/vcpu: <vcpu>2</vcpu> → <vcpu>4</vcpu>");
  });

  it("sets an attribute that exists, and creates one that does not", () => {
    const { xml, edits } = edited(
      { xpath: "devices/disk[@device='cdrom']/target/@bus", value: "scsi" },
      { xpath: "devices/disk[1]/driver/@cache", value: "none" },
    );
    expect(xml).toMatch(/<target dev="sda" bus="scsi"\/>/);
    expect(xml).toMatch(/<driver name="qemu" type="raw" cache="none"\/>/);
    expect(edits.map((edit) => edit.before)).toEqual([['@bus="sata"'], []]);
    expect(edits[1]!.after).toEqual(['@cache="none"']);
  });

  it("replaces every element it selects with the given XML", () => {
    const { xml } = edited({
      xpath: "//interface/model",
      xml: "<model type='e1000e'/><link state='down'/>",
    });
    expect(xml).toMatch(/<model type="e1000e"\/>\s*<link state="down"\/>/);
    expect(xml).not.toMatch(/virtio"\/>\s*<\/interface/);
  });

  it("removes elements and attributes, including ones a patch added", () => {
    const { xml, edits } = edited(
      { xpath: "//rng", remove: true },
      { xpath: "/domain/devices/disk/target/@bus", remove: true },
    );
    expect(xml).not.toMatch(/<rng/);
    expect(xml).not.toMatch(/bus=/);
    expect(edits[1]!.before).toHaveLength(2);
    expect(edits[1]!.after).toEqual(["(removed)", "(removed)"]);
  });

  it("applies edits in order, each to the XML the one before left", () => {
    const { xml } = edited(
      { xpath: "//interface/model/@type", value: "rtl8139" },
      { xpath: "//interface/model[@type='rtl8139']/@type", value: "e1000" },
    );
    expect(xml).toMatch(/<model type="e1000"\/>/);
  });

  it("keeps the result well-formed when a value holds markup characters", () => {
    const { xml } = edited({
      xpath: "/domain/devices/disk[1]/source/@file",
      value: "/img/a&b<'c'>.img",
    });
    expect(JSON.stringify(parseXml(xml, "domain"))).toContain("/img/a&b<'c'>.img");
  });

  it("refuses an XPath that selects nothing, naming the edit and the expression", () => {
    expect(() =>
      edited({ xpath: "/domain/vcpu", value: "3" }, { xpath: "//tpm", remove: true }),
    ).toThrow(
      new EditError(
        1,
        'selects nothing: "//tpm" matches no node of the domain XML virtwire builds; fix the XPath or remove the edit',
      ),
    );
    expect(() => edited({ xpath: "//tpm/@model", value: "x" })).toThrow(
      /xmlEdits\[0\] selects nothing/,
    );
  });

  it("refuses replacing or removing <domain> itself", () => {
    expect(() => edited({ xpath: "/domain", remove: true })).toThrow(/<domain> itself/);
    expect(() => edited({ xpath: ".", xml: "<domain/>" })).toThrow(/<domain> itself/);
  });

  it.each<[DomainXmlEdit, RegExp]>([
    [{ xpath: "/domain/vcpu" }, /exactly one of value, xml or remove/],
    [{ xpath: "/domain/vcpu", value: "1", remove: true }, /exactly one/],
    [{ xpath: "/domain/vcpu", remove: false }, /exactly one/],
    [{ xpath: "/domain/vcpu[", value: "1" }, /outside the supported subset: expected a position/],
    [{ xpath: "/domain/@type", xml: "<x/>" }, /selects attributes: use value/],
    [{ xpath: "/domain/os", xml: "<os><type>" }, /not well-formed XML: <type> is never closed/],
  ])("refuses %j as written", (edit, problem) => {
    expect(editProblem(edit)).toMatch(problem);
  });
});
