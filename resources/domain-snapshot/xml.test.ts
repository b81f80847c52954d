import { buildSnapshotXml, overlayBeside, readDomainDisks, readSnapshotXml } from "./xml";

describe("snapshot XML", () => {
  it("asks for an overlay per writable disk and a memory file, and nothing for a cdrom", () => {
    const xml = buildSnapshotXml({
      name: "s1",
      description: "a <b> & c",
      memoryFile: "/srv/s1.mem",
      disks: [
        { target: "vda", external: true },
        { target: "sda", external: false },
      ],
    });
    expect(xml).toBe(
      "<domainsnapshot><name>s1</name><description>a &lt;b&gt; &amp; c</description>" +
        '<memory snapshot="external" file="/srv/s1.mem"/><disks><disk name="vda" snapshot="external"/>' +
        '<disk name="sda" snapshot="no"/></disks></domainsnapshot>',
    );
  });

  it("reads an external snapshot's overlays, memory file, parent and state as libvirt reports them", () => {
    const facts = readSnapshotXml(`<domainsnapshot>
  <name>s2</name><description>x &amp; y</description><state>running</state>
  <parent><name>s1</name></parent><creationTime>1765000000</creationTime>
  <memory snapshot='external' file='/srv/s2.mem'/>
  <disks>
    <disk name='vda' snapshot='external' type='file'><driver type='qcow2'/><source file='/srv/vm.s2'/></disk>
    <disk name='sda' snapshot='no'/>
  </disks>
  <domain type='qemu'><name>vm</name></domain>
</domainsnapshot>`);
    expect(facts).toEqual({
      name: "s2",
      description: "x & y",
      creationTime: 1765000000,
      state: "running",
      parent: "s1",
      kind: "external",
      memoryFile: "/srv/s2.mem",
      overlays: [{ target: "vda", path: "/srv/vm.s2" }],
    });
  });

  it("reads an internal snapshot as one without overlays", () => {
    const facts = readSnapshotXml(
      "<domainsnapshot><name>s</name><state>shutoff</state><creationTime>1</creationTime>" +
        "<memory snapshot='no'/><disks><disk name='vda' snapshot='internal'/></disks></domainsnapshot>",
    );
    expect(facts).toMatchObject({ kind: "internal", overlays: [], parent: undefined });
  });

  it("tells a domain's writable disks from its cdroms and read-only disks", () => {
    const disks = readDomainDisks(`<domain><devices>
  <disk type='file' device='disk'><source file='/a.qcow2'/><target dev='vda'/></disk>
  <disk type='file' device='cdrom'><source file='/seed.iso'/><target dev='sda'/><readonly/></disk>
  <disk type='block' device='disk'><source dev='/dev/vg/b'/><target dev='vdb'/><readonly/></disk>
</devices></domain>`);
    expect(disks).toEqual([
      { target: "vda", path: "/a.qcow2", writable: true },
      { target: "sda", path: "/seed.iso", writable: false },
      { target: "vdb", path: "/dev/vg/b", writable: false },
    ]);
  });

  it("puts a volume disk's overlay beside its image, as libvirt names those of file disks", () => {
    expect(overlayBeside("/srv/pool/vm.qcow2", "s1")).toBe("/srv/pool/vm.s1");
    expect(overlayBeside("/srv/pool.d/vm", "s1")).toBe("/srv/pool.d/vm.s1");
    expect(overlayBeside("/srv/.hidden", "s1")).toBe("/srv/.hidden.s1");
  });

  it("reads a disk given as a pool's volume with its pool and name", () => {
    const [disk] = readDomainDisks(
      "<domain><devices><disk type='volume' device='disk'><source pool='p' volume='v.qcow2'/><target dev='vda'/></disk></devices></domain>",
    );
    expect(disk).toEqual({
      target: "vda",
      path: undefined,
      volume: { pool: "p", name: "v.qcow2" },
      writable: true,
    });
  });
});
