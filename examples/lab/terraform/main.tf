# examples/lab in Terraform with terraform-provider-libvirt 0.8.3, for bench/lab (a side-by-side
# benchmark against `pulumi up` of ../index.ts). The same objects as the Pulumi program: an
# isolated network with DHCP and DNS domain `lab`, a dir pool removed with the lab, a base image
# uploaded from a file, and per VM a qcow2 overlay of it, a cloud-init seed and a domain that waits
# for its DHCP lease. What TPL 0.8.3 cannot say the same way is listed in README.md beside this file.

terraform {
  required_providers {
    libvirt = {
      source  = "dmacvicar/libvirt"
      version = "0.8.3"
    }
  }
}

variable "uri" {
  type    = string
  default = "qemu:///system"
}
variable "prefix" {
  description = "Start of every name; bench/lab uses vwtest-bench-<hex>."
  type        = string
}
variable "vms" {
  type    = number
  default = 3
}
variable "subnet" {
  description = "First three octets of the network's /24."
  type        = string
  default     = "10.77.0"
}
variable "memory_mib" {
  type    = number
  default = 512
}
variable "domain_type" {
  type    = string
  default = "kvm"
}
variable "pool_path" { type = string }
variable "image" {
  description = "Base image: a file on the machine running Terraform."
  type        = string
}
variable "kernel" {
  type    = string
  default = null
}
variable "initrd" {
  type    = string
  default = null
}
variable "cmdline" {
  description = "Kernel arguments as TPL wants them: a list of maps, `_` for a bare word."
  type        = list(map(string))
  default     = [{ console = "ttyS0" }]
}
variable "disk_size" {
  type    = number
  default = 10737418240 # 10 GiB
}
variable "password" {
  type      = string
  sensitive = true
  default   = null
}

provider "libvirt" {
  uri = var.uri
}

resource "libvirt_network" "lab" {
  name      = "${var.prefix}-net"
  mode      = "none" # isolated
  domain    = "lab"
  addresses = ["${var.subnet}.0/24"]
  dhcp {
    enabled = true # TPL 0.8 cannot set the range: the whole subnet after the gateway
  }
  dns {
    enabled = true
  }
}

resource "libvirt_pool" "lab" {
  name = "${var.prefix}-pool"
  type = "dir"
  target {
    path = var.pool_path
  }
}

resource "libvirt_volume" "base" {
  name   = "${var.prefix}-base"
  pool   = libvirt_pool.lab.name
  source = var.image
}

resource "libvirt_volume" "disk" {
  count          = var.vms
  name           = "${var.prefix}-vm${count.index + 1}-disk"
  pool           = libvirt_pool.lab.name
  base_volume_id = libvirt_volume.base.id
  size           = var.disk_size
  format         = "qcow2"
}

resource "libvirt_cloudinit_disk" "seed" {
  count     = var.vms
  name      = "${var.prefix}-vm${count.index + 1}-seed.iso"
  pool      = libvirt_pool.lab.name
  meta_data = "local-hostname: vm${count.index + 1}\n"
  user_data = <<-EOT
    #cloud-config
    hostname: vm${count.index + 1}
    users:
      - name: lab
        sudo: ALL=(ALL) NOPASSWD:ALL
        shell: /bin/bash
        lock_passwd: ${var.password == null ? "true" : "false"}
    %{if var.password != null~}
        plain_text_passwd: ${var.password}
    %{endif~}
    ssh_pwauth: ${var.password == null ? "false" : "true"}
  EOT
}

resource "libvirt_domain" "vm" {
  count     = var.vms
  name      = "${var.prefix}-vm${count.index + 1}"
  type      = var.domain_type
  memory    = var.memory_mib
  vcpu      = 1
  kernel    = var.kernel
  initrd    = var.initrd
  cmdline   = var.kernel == null ? null : var.cmdline
  cloudinit = libvirt_cloudinit_disk.seed[count.index].id

  disk {
    volume_id = libvirt_volume.disk[count.index].id
  }

  network_interface {
    network_id     = libvirt_network.lab.id
    wait_for_lease = true
  }
}

output "addresses" {
  value = { for i, d in libvirt_domain.vm : "vm${i + 1}" => d.network_interface[0].addresses[0] }
}
output "domains" {
  value = { for i, d in libvirt_domain.vm : "vm${i + 1}" => d.name }
}
output "network_name" { value = libvirt_network.lab.name }
output "bridge" { value = libvirt_network.lab.bridge }
output "pool_name" { value = libvirt_pool.lab.name }
