import { buildVolumeXml, formatClass, readVolumeXml } from "./xml";

/** STORAGE_VOL_GET_XML_DESC of an overlay in a dir pool, as libvirt 9.0 wrote it. */
const OVERLAY_XML = `<volume type='file'>
  <name>ov</name>
  <key>/srv/pool/ov</key>
  <capacity unit='bytes'>2147483648</capacity>
  <allocation unit='bytes'>200704</allocation>
  <physical unit='bytes'>196640</physical>
  <target>
    <path>/srv/pool/ov</path>
    <format type='qcow2'/>
    <permissions><mode>0600</mode><owner>0</owner><group>0</group></permissions>
  </target>
  <backingStore>
    <path>/srv/pool/base.qcow2</path>
    <format type='qcow2'/>
  </backingStore>
</volume>`;

describe("volume XML", () => {
  it("builds an empty sparse raw volume", () => {
    expect(buildVolumeXml({ name: "data", capacity: 10737418240, format: "raw" }))
      .toMatchInlineSnapshot(`
"<volume>
  <name>data</name>
  <capacity unit="bytes">10737418240</capacity>
  <allocation unit="bytes">0</allocation>
  <target>
    <format type="raw"/>
  </target>
</volume>"
`);
  });

  it("builds a qcow2 v3 overlay on a backing store, without a capacity when none is given", () => {
    expect(
      buildVolumeXml({
        name: "root",
        format: "qcow2",
        backingStore: { path: "/srv/pool/base.qcow2", format: "qcow2" },
      }),
    ).toMatchInlineSnapshot(`
"<volume>
  <name>root</name>
  <allocation unit="bytes">0</allocation>
  <target>
    <format type="qcow2"/>
    <compat>1.1</compat>
  </target>
  <backingStore>
    <path>/srv/pool/base.qcow2</path>
    <format type="qcow2"/>
  </backingStore>
</volume>"
`);
  });

  it("escapes names that look like markup", () => {
    expect(buildVolumeXml({ name: "a<b", capacity: 1, format: "raw" })).toContain(
      "<name>a&lt;b</name>",
    );
  });

  it("reads libvirt's description of an overlay", () => {
    expect(readVolumeXml(OVERLAY_XML)).toEqual({
      name: "ov",
      key: "/srv/pool/ov",
      path: "/srv/pool/ov",
      format: "qcow2",
      capacity: 2147483648,
      allocation: 200704,
      backingStore: { path: "/srv/pool/base.qcow2", format: "qcow2" },
    });
  });

  it("reads sizes in other units and a volume without a format or backing store", () => {
    const xml =
      "<volume><name>v</name><capacity unit='G'>2</capacity><allocation>512</allocation><target><path>/p</path></target></volume>";
    expect(readVolumeXml(xml)).toMatchObject({
      capacity: 2 * 1024 ** 3,
      allocation: 512,
      format: "raw",
      backingStore: undefined,
    });
  });

  it("leaves a backing store's format out when libvirt gives none", () => {
    const xml =
      "<volume><name>v</name><capacity>1</capacity><target><path>/p</path></target><backingStore><path>/b</path></backingStore></volume>";
    expect(Object.keys(readVolumeXml(xml).backingStore!)).toEqual(["path"]);
  });

  it("counts every probed format but qcow2 as raw content", () => {
    expect(formatClass("qcow2")).toBe("qcow2");
    expect(formatClass("iso")).toBe("raw");
    expect(formatClass("raw")).toBe("raw");
    expect(formatClass(undefined)).toBe("raw");
  });
});

describe("an encrypted volume's XML", () => {
  it("names the secret by UUID, or by usage for a volume secret", () => {
    const uuid = "416110b7-6492-4554-9866-471115544a41";
    const byUuid = buildVolumeXml({
      name: "a",
      capacity: 1,
      format: "raw",
      encryption: { secret: uuid },
    });
    expect(byUuid).toContain('<encryption format="luks">');
    expect(byUuid).toContain(`<secret type="passphrase" uuid="${uuid}"/>`);
    const byUsage = buildVolumeXml({
      name: "a",
      capacity: 1,
      format: "qcow2",
      encryption: { secret: "/v/a" },
    });
    expect(byUsage).toContain('<secret type="passphrase" usage="/v/a"/>');
  });
});
