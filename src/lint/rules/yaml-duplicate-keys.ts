import { findDuplicateKeys } from '../../config/duplicate-keys.js';
import type { LintCheck } from '../types.js';

export const yamlDuplicateKeys: LintCheck = {
  check: ({ document, lineCounter }) => findDuplicateKeys(document, lineCounter),
};
