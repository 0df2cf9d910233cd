import { z } from 'zod';
import { UsageError } from '../../errors.js';

export const PROVIDERS = ['virtualbox', 'libvirt', 'docker'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Providers whose machines are VMs made from a box. */
export const isVmProvider = (provider: Provider): boolean => provider !== 'docker';

/** `driver.options` of the vagrant driver. */
export const optionsSchema = z.strictObject({
  /** virtualbox and libvirt make VMs; docker makes containers (no virtualisation needed). */
  provider: z.enum(PROVIDERS).default('virtualbox'),
  /** VM providers: the box of platforms that name none. */
  box: z.string().min(1).default('debian/bookworm64'),
  /** VM providers: MiB of memory of platforms that give none. */
  memory: z.number().int().positive().default(1024),
  /** VM providers: CPUs of platforms that give none. */
  cpus: z.number().int().positive().default(1),
  /** VM providers: the /24 of the private network; node n gets .11+n. */
  privateNetwork: z
    .string()
    .regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.0\/24$/, { error: 'must be a /24 like 192.168.56.0/24' })
    .default('192.168.56.0/24'),
  /** Vagrant's home (boxes, plugins, machine index); default `.swarm-molecule/vagrant.d` in the project. */
  vagrantHome: z.string().min(1).optional(),
  /** Another Vagrantfile that reads the same node list; default the one at the top of swarm-molecule. */
  vagrantfile: z.string().min(1).optional(),
  /** How long `vagrant up` may take (a first box download can be long). */
  upTimeoutSeconds: z.number().int().positive().default(1800),
  /** How long a node may take to answer SSH and Docker once Vagrant says it is up. */
  readyTimeoutSeconds: z.number().int().positive().default(120),
  /** docker provider: a /16 from which each run leases a /24 for its nodes (shared with the netns driver's leases). */
  subnetPool: z
    .string()
    .regex(/^\d{1,3}\.\d{1,3}\.0\.0\/16$/, { error: 'must be a /16 like 10.214.0.0/16' })
    .default('10.214.0.0/16'),
  /** docker provider: where each run's dockerd keeps its data. */
  dataDir: z.string().min(1).default('/var/lib/sm-vagrant'),
  /** docker provider: where the node image is cached between runs. */
  imageCacheDir: z.string().min(1).default(process.env.SWARM_MOLECULE_CACHE ?? '/var/cache/swarm-molecule'),
  /** docker provider: the Debian mirror debootstrap builds the node image from; default the host's. */
  mirror: z.string().url().optional(),
});

export type VagrantOptions = z.output<typeof optionsSchema>;

export function parseOptions(scenario: string, options: Record<string, unknown>): VagrantOptions {
  const parsed = optionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `driver.options${issue.path.length ? `.${issue.path.join('.')}` : ''}: ${issue.message}`);
  throw new UsageError(`Scenario "${scenario}" has vagrant driver options that are not right:\n  - ${problems.join('\n  - ')}`, {
    hint: `Options: ${Object.keys(optionsSchema.shape).join(', ')}. See "The vagrant driver" in the README.`,
  });
}
