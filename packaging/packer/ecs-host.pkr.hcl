# Bakes an ECS host AMI with Packer's amazon-chroot builder: the new image's
# root volume is mounted on the build instance at mount_path, the
# ecs-host-agent package is installed into it (install-package.sh, in a chroot:
# nothing starts), then the agent the image now holds provisions the image
# root from the build instance (`apply --root`: Docker, ecs-init, ecs.config,
# units enabled, nothing started), and clean-image.sh removes what must not
# stay. Nothing is installed or started on the build instance itself.
#
# Run `packer build` as root on an EC2 instance of the image's architecture:
# an Ubuntu or Debian one for Ubuntu and Debian images, an Amazon Linux 2023
# one for RPM-family images (Debian's rpm does not use the image's own rpm
# database). Variables choose the distribution and architecture; the README's
# "Baking an AMI with Packer" has examples and the IAM permissions.
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "region" {
  type = string
}

variable "ecs_cluster" {
  type = string
}

variable "package_file" {
  type        = string
  description = "The ecs-host-agent .deb or .rpm from `npm run package` for the image's distribution and architecture"
}

variable "source_ami_name" {
  type        = string
  default     = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-*-server-*"
  description = "Name filter of the stock image to start from (Ubuntu 24.04 by default)"
}

variable "source_ami_owner" {
  type        = string
  default     = "099720109477"
  description = "Account that publishes the source image (Canonical by default)"
}

variable "architecture" {
  type        = string
  default     = "x86_64"
  description = "x86_64 or arm64: the source image's, which must be the build instance's"
}

variable "mount_path" {
  type    = string
  default = "/mnt/ecs-host-image"
}

locals {
  package_in_image = "/tmp/${basename(var.package_file)}"
}

source "amazon-chroot" "ecs_host" {
  region     = var.region
  mount_path = var.mount_path
  source_ami_filter {
    filters = {
      name                = var.source_ami_name
      architecture        = var.architecture
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = [var.source_ami_owner]
    most_recent = true
  }
  ami_name    = "ecs-host-${var.ecs_cluster}-${var.architecture}-${formatdate("YYYYMMDD-hhmm", timestamp())}"
  ena_support = true
}

build {
  sources = ["source.amazon-chroot.ecs_host"]

  # Inside the image: agent.env, then the package, with a policy that starts nothing.
  provisioner "file" {
    source      = var.package_file
    destination = local.package_in_image
  }
  provisioner "shell" {
    script           = "${path.root}/install-package.sh"
    environment_vars = ["PACKAGE=${local.package_in_image}", "ECS_CLUSTER=${var.ecs_cluster}"]
  }

  # On the build instance, with the agent the image now holds (its own Node.js
  # runtime and bundle): Docker, ecs-init (signature verified), ecs.config and
  # the units, into the image root. The config file is the image's.
  provisioner "shell-local" {
    inline = [
      "set -e",
      "image='${var.mount_path}'",
      "agent=\"$image/usr/lib/ecs-host-agent\"",
      "export AWS_REGION='${var.region}'",
      "\"$agent/node\" \"$agent/ecs-host-agent.mjs\" apply --root \"$image\" \\",
      "  --config \"$image/etc/ecs-host-agent/agent.env\"",
    ]
  }

  # Inside the image again: no agent state, download cache, machine id, SSH
  # host keys, cloud-init state or package caches of this build.
  provisioner "shell" {
    script = "${path.root}/clean-image.sh"
  }
}
