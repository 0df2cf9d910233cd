import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader gives its exports only as the default.
const { utils } = ssh2;

export interface KeyPair {
  /** OpenSSH private key. */
  privateKey: string;
  /** `ssh-ed25519 AAAA... comment`, as in authorized_keys and known_hosts. */
  publicKey: string;
}

export function generateKeyPair(comment: string): KeyPair {
  const pair = utils.generateKeyPairSync('ed25519', { comment });
  return { privateKey: pair.private, publicKey: pair.public.trim() };
}

/** Write a private key with mode 0600 (and its `.pub` beside it). */
export async function writeKeyPair(path: string, pair: KeyPair): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, pair.privateKey, { mode: 0o600 });
  await chmod(path, 0o600);
  await writeFile(`${path}.pub`, `${pair.publicKey}\n`, { mode: 0o644 });
}

/** The key pair at `path`, generated on first use. */
export async function ensureKeyPair(path: string, comment: string): Promise<KeyPair> {
  try {
    const [privateKey, publicKey] = await Promise.all([readFile(path, 'utf8'), readFile(`${path}.pub`, 'utf8')]);
    return { privateKey, publicKey: publicKey.trim() };
  } catch {
    const pair = generateKeyPair(comment);
    await writeKeyPair(path, pair);
    return pair;
  }
}
