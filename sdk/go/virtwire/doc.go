// libvirt for Pulumi, in pure TypeScript: domains, networks, storage pools, volumes and cloud-init disks on any libvirt host.
package virtwire
