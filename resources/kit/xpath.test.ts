import { fragment } from "./xmlbuilder";
import { type XPathNode, XPathSyntaxError, parseXPath, select } from "./xpath";

const DOMAIN = `<domain type="qemu">
  <name>web</name>
  <vcpu placement="static">2</vcpu>
  <os><type arch="x86_64">hvm</type><boot dev="hd"/><boot dev="cdrom"/></os>
  <devices>
    <disk type="file" device="disk"><driver name="qemu" type="qcow2"/><target dev="vda" bus="virtio"/></disk>
    <disk type="file" device="cdrom"><target dev="sda" bus="sata"/><readonly/></disk>
    <interface type="network"><source network="default"/><model type="virtio"/></interface>
    <disk type="block" device="disk"><target dev="vdb" bus="virtio"/></disk>
  </devices>
</domain>`;

function domain(): XPathNode {
  const root = fragment(DOMAIN).node as unknown as XPathNode;
  return Array.from(root.childNodes).find((node) => node.nodeName === "domain")!;
}

/** What each selected node reads as: `<name>`, `@name=value` or `"text"`. */
function shown(expression: string, context = domain()): string[] {
  return select(expression, context).map((node) => {
    if (node.nodeType === 2) return `@${node.nodeName}=${node.textContent}`;
    if (node.nodeType === 3) return JSON.stringify(node.textContent);
    const dev = select("target/@dev", node)[0]?.textContent;
    return dev ? `<${node.nodeName} ${dev}>` : `<${node.nodeName}>`;
  });
}

describe("the XPath subset", () => {
  it("follows an absolute path from the document", () => {
    expect(shown("/domain/vcpu")).toEqual(["<vcpu>"]);
    expect(shown("/domain/devices/disk")).toEqual(["<disk vda>", "<disk sda>", "<disk vdb>"]);
  });

  it("follows a relative path from the context element", () => {
    expect(shown("devices/interface/model")).toEqual(["<model>"]);
    expect(shown("./name/text()")).toEqual(['"web"']);
  });

  it("finds elements at any depth with //, in document order", () => {
    expect(shown("//target/@dev")).toEqual(["@dev=vda", "@dev=sda", "@dev=vdb"]);
    expect(shown("devices//source/@network")).toEqual(["@network=default"]);
  });

  it("selects attributes, all attributes and text", () => {
    expect(shown("/domain/@type")).toEqual(["@type=qemu"]);
    expect(shown("/domain/vcpu/@*")).toEqual(["@placement=static"]);
    expect(shown("/domain/vcpu/text()")).toEqual(['"2"']);
  });

  it("counts a position among the matches under each parent", () => {
    expect(shown("/domain/devices/disk[2]")).toEqual(["<disk sda>"]);
    expect(shown("/domain/os/boot[2]/@dev")).toEqual(["@dev=cdrom"]);
    expect(shown("//disk[1]")).toEqual(["<disk vda>"]);
    expect(shown("/domain/devices/disk[4]")).toEqual([]);
  });

  it("filters by an attribute, its value, a child's text or the element's own text", () => {
    expect(shown("//disk[@device='cdrom']")).toEqual(["<disk sda>"]);
    expect(shown('//disk[@type="block"]')).toEqual(["<disk vdb>"]);
    expect(shown("//disk[readonly]")).toEqual(["<disk sda>"]);
    expect(shown("/domain[name='web']/vcpu")).toEqual(["<vcpu>"]);
    expect(shown("/domain[name='db']/vcpu")).toEqual([]);
    expect(shown("//vcpu[text()='2']")).toEqual(["<vcpu>"]);
  });

  it("applies predicates one after the other", () => {
    expect(shown("//disk[@device='disk'][2]")).toEqual(["<disk vdb>"]);
    expect(shown("//disk[2][@device='disk']")).toEqual([]);
  });

  it("steps to the parent and matches any element with *", () => {
    expect(shown("//readonly/..")).toEqual(["<disk sda>"]);
    expect(shown("/domain/os/*")).toEqual(["<type>", "<boot>", "<boot>"]);
  });

  it("returns each node once", () => {
    expect(shown("//devices//target/..")).toEqual(["<disk vda>", "<disk sda>", "<disk vdb>"]);
  });

  it.each([
    ["", "empty expression"],
    ["/domain/vcpu[", "expected a position"],
    ["/domain/vcpu[1", "expected ]"],
    ["//disk[@device=cdrom]", "expected a quoted value"],
    ["/domain/devices/disk | /domain/vcpu", 'unexpected "|"'],
    ["count(//disk)", 'unexpected "("'],
    ["/domain/@type/x", "an attribute or text() must be the last step"],
    ["/domain/disk[0]", "expected a position"],
    ["child::disk", 'unexpected ":"'],
  ])("refuses %j outside the subset: %s", (expression, problem) => {
    let error: unknown;
    try {
      parseXPath(expression);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(XPathSyntaxError);
    expect((error as Error).message).toContain(problem);
  });
});
