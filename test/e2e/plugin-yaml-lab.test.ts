/**
 * The lab of language-lab.ts in Pulumi YAML, through the provider plugin and Pulumi's YAML
 * language host (scripts/pulumi-yaml.sh), on the default provider from stack config (with a secret
 * `virtwire:password`).
 */
import { GUEST_CMDLINE, GUEST_INITRD, GUEST_KERNEL } from "../support/guest";
import { writeYamlProject, yamlProjectEnv } from "../support/languages";
import { TEST_URI } from "../support/testbed";
import { LabSettings, describeLab } from "./language-lab";
import { PulumiProject } from "./pulumi-project";

function program({ marker, subnet, poolPath, image }: LabSettings): string {
  return `resources:
  net:
    type: virtwire:index:Network
    properties:
      name: ${marker}
      mode: isolated
      addresses:
        - address: ${subnet}.1
          prefix: 24
          dhcp:
            ranges:
              - start: ${subnet}.100
                end: ${subnet}.199
  pool:
    type: virtwire:index:Pool
    properties:
      name: ${marker}
      type: dir
      targetPath: ${poolPath}
      deleteTargetOnDestroy: true
  disk:
    type: virtwire:index:Volume
    properties:
      name: disk.img
      pool: \${pool.name}
      source:
        path: ${image}
  vm:
    type: virtwire:index:Domain
    properties:
      name: ${marker}
      type: qemu
      memory: 128MiB
      vcpu: 1
      kernel: ${GUEST_KERNEL}
      initrd: ${GUEST_INITRD}
      cmdline: ${GUEST_CMDLINE}
      disks:
        - volume:
            pool: \${pool.name}
            name: \${disk.name}
      networkInterfaces:
        - network: \${net.name}
      waitForAddresses:
        source: lease
        timeout: 120
      shutdownTimeout: 30
outputs:
  address: \${vm.ipAddress}
  domain: \${vm.name}
`;
}

describeLab(
  "a YAML lab through the provider plugin",
  "yamllab",
  { net: "default", pool: "default", disk: "default", vm: "default" },
  async (lab) => {
    writeYamlProject(lab.dir, "vwtest-yaml-lab", program(lab));
    const project = await PulumiProject.inDirectory(lab.dir, "lab", {
      env: await yamlProjectEnv(),
      plugin: lab.plugin,
    });
    await project.setConfig("virtwire:uri", TEST_URI);
    await project.setConfig("virtwire:password", lab.password, { secret: true });
    return project;
  },
);
