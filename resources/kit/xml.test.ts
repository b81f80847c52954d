import { attr, element, parseXml, text } from "./xml";

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
