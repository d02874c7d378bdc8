# Bakes an ECS host AMI from a stock Ubuntu AMI with Packer's amazon-chroot
# builder: the image's root volume is mounted on this build instance at
# /mnt/image, the ecs-host-agent package is installed into it, and the agent
# installed on the build instance provisions it with `apply --root`. Nothing
# is started, and nothing of the build instance or of a booted host stays in
# the image. Run `packer build` as root on an EC2 instance (Ubuntu or Debian,
# same architecture as the image) that has ecs-host-agent installed; see the
# README for the IAM permissions Packer's amazon-chroot builder needs.
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
  description = "The ecs-host-agent .deb from `npm run package` (dist/packages/ecs-host-agent_<version>_amd64.deb)"
}

source "amazon-chroot" "ecs_host" {
  region     = var.region
  mount_path = "/mnt/image"
  source_ami_filter {
    filters = {
      name                = "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = ["099720109477"]
    most_recent = true
  }
  ami_name    = "ecs-host-${var.ecs_cluster}-${formatdate("YYYYMMDD-hhmm", timestamp())}"
  ena_support = true
}

build {
  sources = ["source.amazon-chroot.ecs_host"]

  # Inside the image. The agent's configuration comes first; in a chroot the
  # package's maintainer scripts only enable ecs-host-agent.service.
  provisioner "file" {
    source      = var.package_file
    destination = "/tmp/ecs-host-agent.deb"
  }
  provisioner "shell" {
    inline = [
      "set -e",
      "mkdir -p /etc/ecs-host-agent",
      "(umask 077 && echo 'ECS_CLUSTER=${var.ecs_cluster}' > /etc/ecs-host-agent/agent.env)",
      "export DEBIAN_FRONTEND=noninteractive",
      "apt-get -q update",
      "apt-get -q -o Dpkg::Options::=--force-confold install -y /tmp/ecs-host-agent.deb",
      "rm -f /tmp/ecs-host-agent.deb",
    ]
  }

  # On the build instance: Docker, ecs-init (signature verified), ecs.config
  # and the units, into the image. The config file is read where the agent
  # runs, so it is named inside the image.
  provisioner "shell-local" {
    inline = [
      "AWS_REGION=${var.region} ecs-host-agent apply --root /mnt/image --config /mnt/image/etc/ecs-host-agent/agent.env",
    ]
  }

  # Inside the image again: no ECS agent state (every instance registers
  # afresh), no machine id, SSH host keys, cloud-init state or logs of this build.
  provisioner "shell" {
    inline = [
      "set -e",
      "rm -rf /var/lib/ecs/data",
      "truncate -s 0 /etc/machine-id",
      "rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*",
      "cloud-init clean --logs",
      "apt-get clean",
    ]
  }
}
