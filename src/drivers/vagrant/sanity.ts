import { existsSync, readFileSync } from 'node:fs';
import type { PlatformConfig } from '../../config/index.js';
import { hasProgram } from '../host/command.js';
import type { SanityProblem } from '../types.js';
import type { VagrantClient } from './client.js';
import type { VagrantOptions } from './options.js';

const INSTALL_VAGRANT = 'apt-get install -y vagrant (Debian/Ubuntu), or see https://developer.hashicorp.com/vagrant/install';

/** Whether the CPU offers hardware virtualisation (VT-x / AMD-V) to this machine. */
export function hasHardwareVirtualisation(cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')): boolean {
  return /^flags\s*:.*\b(vmx|svm)\b/m.test(cpuinfo);
}

/** Boxes `vagrant box list --machine-readable` reports, as `name provider` pairs. */
export function boxesOf(lines: readonly { type: string; data: string[] }[]): Set<string> {
  const boxes = new Set<string>();
  let name: string | undefined;
  for (const line of lines) {
    if (line.type === 'box-name') name = line.data[0];
    if (line.type === 'box-provider' && name) boxes.add(`${name} ${line.data[0] ?? ''}`);
  }
  return boxes;
}

async function missingPrograms(programs: [program: string, fix: string][]): Promise<SanityProblem[]> {
  const found = await Promise.all(programs.map(([program]) => hasProgram(program)));
  return programs.flatMap(([program, fix], i) => (found[i] ? [] : [{ problem: `${program} is not installed.`, fix }]));
}

/**
 * What this machine lacks for the vagrant driver with the scenario's provider:
 * Vagrant, the provider, the boxes, and for the docker provider what builds the
 * node image and runs its isolated dockerd. Each with the command that fixes it.
 */
export async function vagrantSanityProblems(args: {
  options: VagrantOptions;
  platforms: readonly PlatformConfig[];
  client: VagrantClient;
  vagrantHome: string;
  /** docker provider: the node image is cached, so debootstrap is not needed. */
  imageCached: boolean;
}): Promise<SanityProblem[]> {
  const { options, client } = args;
  const problems: SanityProblem[] = [];
  const hasVagrant = await hasProgram('vagrant');
  if (!hasVagrant) problems.push({ problem: 'Vagrant is not installed.', fix: INSTALL_VAGRANT });

  if (options.provider === 'docker') {
    const dockerInstall = 'apt-get install -y docker.io';
    if (process.getuid?.() !== 0) {
      problems.push({
        problem: 'The docker provider needs root: swarm-molecule runs its own dockerd in a network namespace with no route out.',
        fix: 'Run as root, e.g. "sudo npx swarm-molecule test".',
      });
    }
    problems.push(
      ...(await missingPrograms([
        ['docker', dockerInstall],
        ['dockerd', dockerInstall],
        ['containerd', dockerInstall],
        ['runc', dockerInstall],
        ['ip', 'apt-get install -y iproute2'],
        ['nsenter', 'apt-get install -y util-linux'],
        ['unshare', 'apt-get install -y util-linux'],
        ['tar', 'apt-get install -y tar'],
      ])),
    );
    if (!args.imageCached) {
      problems.push(...(await missingPrograms([['debootstrap', 'apt-get install -y debootstrap']])));
      if (!existsSync('/usr/share/keyrings/debian-archive-keyring.gpg')) {
        problems.push({ problem: 'The Debian archive keyring is missing; debootstrap cannot check the node image\'s packages.', fix: 'apt-get install -y debian-archive-keyring' });
      }
    }
    if (!existsSync('/sys/fs/cgroup/devices') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) {
      problems.push({ problem: 'No cgroup hierarchy is mounted at /sys/fs/cgroup; dockerd cannot run.', fix: 'Run on a machine (or VM) with cgroups mounted.' });
    }
    return problems;
  }

  // VM providers.
  const noVirtualisation = existsSync('/proc/cpuinfo') && !hasHardwareVirtualisation();
  if (noVirtualisation) {
    problems.push({
      problem: `This machine has no hardware virtualisation (no vmx/svm in /proc/cpuinfo): ${options.provider} VMs cannot run here.`,
      fix: 'Use the docker provider (driver.options.provider: docker), as scenarios/vagrant-docker does, or enable nested virtualisation.',
    });
  }
  if (options.provider === 'virtualbox') {
    problems.push(...(await missingPrograms([['VBoxManage', 'Install VirtualBox: https://www.virtualbox.org/wiki/Linux_Downloads (Debian: the virtualbox package from its repository)']])));
  } else if (options.provider === 'libvirt') {
    if (!existsSync('/dev/kvm') && !noVirtualisation) {
      problems.push({ problem: 'There is no /dev/kvm: the kvm module is not loaded.', fix: 'modprobe kvm_intel (or kvm_amd), and check that virtualisation is enabled in the firmware.' });
    }
    if (hasVagrant) {
      const plugins = await client.run(['plugin', 'list'], { allowFailure: true, timeoutMs: 60_000 });
      if (!plugins.lines.some((l) => l.type === 'plugin-name' && l.data[0] === 'vagrant-libvirt')) {
        problems.push({
          problem: `The vagrant-libvirt plugin is not installed (for Vagrant with VAGRANT_HOME=${args.vagrantHome}).`,
          fix: 'apt-get install -y vagrant-libvirt libvirt-daemon-system (or "vagrant plugin install vagrant-libvirt"; then set driver.options.vagrantHome to that Vagrant home)',
        });
      }
    }
  }
  if (hasVagrant && problems.length === 0) {
    const list = await client.run(['box', 'list'], { allowFailure: true, timeoutMs: 60_000 });
    const boxes = boxesOf(list.lines);
    const wanted = [...new Set(args.platforms.map((p) => p.box ?? options.box))];
    for (const box of wanted.filter((b) => !boxes.has(`${b} ${options.provider}`))) {
      problems.push({
        problem: `The box "${box}" for ${options.provider} is not in Vagrant's home ${args.vagrantHome}.`,
        fix: `VAGRANT_HOME=${args.vagrantHome} vagrant box add ${box} --provider ${options.provider}`,
      });
    }
  }
  return problems;
}
