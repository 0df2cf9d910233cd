import { z } from 'zod';
import { ACTIONS } from '../config/types.js';

const nodeSchema = z.object({
  name: z.string(),
  host: z.string(),
  port: z.number(),
  user: z.string(),
  identityFile: z.string(),
  hostKey: z.string().optional(),
  address: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});

/** A state file as read back; its version is checked first (state.ts), so an older file gets its own message. */
export const stateFileSchema = z.object({
  version: z.number(),
  scenario: z.string(),
  driver: z.string(),
  created: z.boolean(),
  converged: z.boolean(),
  /** The prepare steps ran on these nodes (Molecule runs prepare once per set of nodes). */
  prepared: z.boolean().optional(),
  lastAction: z.enum(ACTIONS).optional(),
  lastError: z.string().optional(),
  updatedAt: z.string(),
  driverState: z.object({ nodes: z.array(nodeSchema), data: z.record(z.string(), z.unknown()) }).optional(),
});

export type StateFile = z.infer<typeof stateFileSchema>;
