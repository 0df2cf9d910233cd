/** Where node images are cached between runs (one directory per recipe). */
export const DEFAULT_CACHE_DIR = process.env.SWARM_MOLECULE_CACHE ?? '/var/cache/swarm-molecule';
