import { z } from 'zod';
// The constant's own module, not the node image's: \`syntax\` loads no driver code to check these options.
import { DEFAULT_CACHE_DIR } from '../host/node-image/cache-dir.js';

/** `driver.options` of the netns driver; checked by `syntax` too. */
export const optionsSchema = z.strictObject({
  /** A /16 from which each run leases a /24. */
  subnetPool: z
    .string()
    .regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.0\.0\/16$/, { error: 'must be a /16 like 10.213.0.0/16' })
    .default('10.213.0.0/16'),
  /** Where node disks (Docker data, host keys, logs) live. */
  dataDir: z.string().default('/var/lib/swarm-molecule'),
  /** How long a node may take to answer SSH and Docker after it starts. */
  readyTimeoutSeconds: z.number().int().positive().default(90),
  /** Where the node image (each node's root filesystem, read-only) is cached between runs. */
  imageCacheDir: z.string().min(1).default(DEFAULT_CACHE_DIR),
  /** The Debian mirror debootstrap builds the node image from; default the one this machine uses. */
  mirror: z.string().url().optional(),
});
