import { z } from 'zod';
import { DEFAULT_CACHE_DIR } from '../host/node-image/index.js';

/** `driver.options` of the docker driver; checked by `syntax` too. */
export const optionsSchema = z.strictObject({
  /** The node image; default the one swarm-molecule builds from Debian packages (no registry), imported into the engine. */
  image: z.string().min(1).optional(),
  /** A /16 from which each run takes a /24 for its own bridge network. */
  subnetPool: z
    .string()
    .regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.0\.0\/16$/, { error: 'must be a /16 like 10.215.0.0/16' })
    .default('10.215.0.0/16'),
  /**
   * A network of yours to put the nodes on instead of one of the run's own: a
   * user-defined network with an IPv4 subnet (nodes take fixed addresses from
   * its .11). It must exist; it is neither made nor removed, and nothing else
   * on it should hold those addresses.
   */
  network: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/, { error: 'must be a Docker network name (letters, digits, _ . -)' })
    .optional(),
  /** Run nodes privileged (what dockerd in a container needs); false gives every capability but SYS_RESOURCE instead, for engines that refuse privileged. */
  privileged: z.boolean().default(true),
  /** MiB of memory of each node that gives none (platform `memory`); default no limit. */
  memory: z.number().int().positive().optional(),
  /** CPUs of each node that gives none (platform `cpus`); default no limit. */
  cpus: z.number().positive().optional(),
  /**
   * How the harness reaches a node's sshd: `address` (the container's address,
   * where this machine routes to it), `published` (port 22 published on the
   * engine's host), `auto` (address for a local engine whose network this
   * machine routes to, else published).
   */
  connect: z.enum(['auto', 'address', 'published']).default('auto'),
  /** How long a node may take to answer SSH and Docker after it starts. */
  readyTimeoutSeconds: z.number().int().positive().default(120),
  /** Where the node image is cached between runs. */
  imageCacheDir: z.string().min(1).default(DEFAULT_CACHE_DIR),
  /** The Debian mirror debootstrap builds the node image from; default the one this machine uses. */
  mirror: z.string().url().optional(),
});
export type DockerOptions = z.output<typeof optionsSchema>;
