import { attr, children, element, elements, parseXml, text } from "./xml";

describe("reading libvirt XML back", () => {
  const xml =
    "<pool type='dir'><name>a&amp;b</name><target><path>/srv/x&gt;y&lt;z &quot;q&quot; it&apos;s &amp;amp; &amp;#65; \uFDD0</path>" +
    "<dev name='&lt;&amp;&gt;'/></target></pool>";
  const pool = parseXml(xml, "pool");

  it("gives text with XML's entities decoded, once", () => {
    expect(text(pool, "name")).toBe("a&b");
    expect(text(element(pool, "target"), "path")).toBe(`/srv/x>y<z "q" it's &amp; &#65; \uFDD0`);
  });

  it("gives attributes with XML's entities decoded", () => {
    expect(attr(element(element(pool, "target"), "dev"), "name")).toBe("<&>");
    expect(attr(pool, "type")).toBe("dir");
  });
});

describe("reading child elements back", () => {
  it("finds every child of a name, in order, when other elements stand between them", () => {
    const cpu = parseXml("<cpu><model>a</model><feature name='x'/><model>b</model></cpu>", "cpu");
    expect(elements(cpu, "model").map((model) => text(model))).toEqual(["a", "b"]);
    expect(attr(element(cpu, "feature"), "name")).toBe("x");
  });

  it("finds children of a name that stand together beside interleaved ones", () => {
    const os = parseXml("<os><boot dev='hd'/><boot dev='cdrom'/><a/><b/><a/></os>", "os");
    expect(elements(os, "boot").map((boot) => attr(boot, "dev"))).toEqual(["hd", "cdrom"]);
    expect(children(os).map(([name]) => name)).toEqual(["boot", "boot", "a", "b", "a"]);
  });
});
