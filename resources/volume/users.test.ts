import { describeUsers, diskSources } from "./users";

/** The disks of a running domain's live XML as libvirt 9 reports them, backing chain included. */
const LIVE = `<domain type='qemu' id='7'>
  <name>vm1</name>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/srv/pool/vm1-disk' index='2'/>
      <backingStore type='file' index='3'>
        <format type='qcow2'/>
        <source file='/srv/pool/base'/>
        <backingStore type='file' index='4'>
          <format type='raw'/>
          <source file='/srv/images/debian.raw'/>
          <backingStore/>
        </backingStore>
      </backingStore>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='volume' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source pool='seeds' volume='vm1-seed' index='1'/>
      <backingStore/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <disk type='block' device='disk'>
      <source dev='/dev/vg0/data'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sdb' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>`;

describe("the disk sources of a domain", () => {
  it("are every disk's file, device or pool volume, and each file of a backing chain", () => {
    expect(diskSources(LIVE)).toEqual([
      { path: "/srv/pool/vm1-disk" },
      { path: "/srv/pool/base" },
      { path: "/srv/images/debian.raw" },
      { pool: "seeds", volume: "vm1-seed" },
      { path: "/dev/vg0/data" },
    ]);
  });

  it("written to are only the top image of each disk that is not read-only", () => {
    expect(diskSources(LIVE, { writing: true })).toEqual([
      { path: "/srv/pool/vm1-disk" },
      { path: "/dev/vg0/data" },
    ]);
  });

  it("are none for a domain without disks", () => {
    expect(diskSources("<domain><name>d</name><devices/></domain>")).toEqual([]);
    expect(diskSources("<domain><name>d</name></domain>")).toEqual([]);
  });
});

describe("the domains that use a volume, in a message", () => {
  it("say running once when all run, else each domain's state", () => {
    expect(describeUsers([{ domain: "vm1", running: true }])).toBe("running domain vm1");
    expect(
      describeUsers([
        { domain: "vm1", running: true },
        { domain: "vm2", running: true },
      ]),
    ).toBe("running domains vm1, vm2");
    expect(
      describeUsers([
        { domain: "vm1", running: true },
        { domain: "vm2", running: false },
      ]),
    ).toBe("domains vm1 (running), vm2 (not running)");
  });
});
