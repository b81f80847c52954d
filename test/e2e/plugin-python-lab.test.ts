/**
 * The lab of language-lab.ts in Python, with the generated SDK (sdk/python) through virtwire's
 * Python language host (scripts/pulumi-python.sh) and the provider plugin. The network and the VM
 * take an explicit `virtwire.Provider(uri=…, password=…)` (its password a secret, though the
 * program gives it in plain text); the pool and the volume the default provider from stack config.
 */
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { writePythonProject } from "../support/languages";
import { TEST_URI } from "../support/testbed";
import { LabSettings, describeLab } from "./language-lab";
import { PulumiProject } from "./pulumi-project";

function program({ marker, subnet, poolPath, image, password }: LabSettings): string {
  const text = JSON.stringify;
  return `import pulumi
import pulumi_virtwire as virtwire

host = virtwire.Provider("host", uri=${text(TEST_URI)}, password=${text(password)})
explicit = pulumi.ResourceOptions(provider=host)

net = virtwire.Network(
    "net",
    name=${text(marker)},
    mode="isolated",
    addresses=[{
        "address": ${text(`${subnet}.1`)},
        "prefix": 24,
        "dhcp": {"ranges": [{"start": ${text(`${subnet}.100`)}, "end": ${text(`${subnet}.199`)}}]},
    }],
    opts=explicit,
)
pool = virtwire.Pool(
    "pool",
    name=${text(marker)},
    type="dir",
    target_path=${text(poolPath)},
    delete_target_on_destroy=True,
)
disk = virtwire.Volume("disk", name="disk.img", pool=pool.name, source={"path": ${text(image)}})
vm = virtwire.Domain(
    "vm",
    name=${text(marker)},
    type="qemu",
    memory="128MiB",
    vcpu=1,
    kernel=${text(GUEST_KERNEL)},
    initrd=${text(GUEST_INITRD)},
    cmdline=${text(GUEST_CMDLINE)},
    disks=[{"volume": {"pool": pool.name, "name": disk.name}}],
    network_interfaces=[{"network": net.name}],
    wait_for_addresses={"source": "lease", "timeout": 120},
    shutdown_timeout=30,
    opts=explicit,
)
pulumi.export("address", vm.ip_address)
pulumi.export("domain", vm.name)
`;
}

describeLab(
  "a Python lab through the provider plugin",
  "pylab",
  { net: "host", pool: "default", disk: "default", vm: "host" },
  async (lab) => {
    await writePythonProject(lab.dir, "vwtest-python-lab", program(lab));
    const project = await PulumiProject.inDirectory(lab.dir, "lab", { plugin: lab.plugin });
    await project.setConfig("virtwire:uri", TEST_URI);
    return project;
  },
);
