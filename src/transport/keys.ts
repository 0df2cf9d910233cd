import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import ssh2 from 'ssh2';
import { UsageError } from '../errors.js';

export interface KeyPair {
  /** OpenSSH private key. */
  privateKey: string;
  /** `ssh-ed25519 AAAA... comment`, as in authorized_keys and known_hosts. */
  publicKey: string;
}

const sshString = (value: Buffer | string) => {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/**
 * An ed25519 key pair in OpenSSH's own format. Not ssh2's generator: it
 * encodes the 32-byte key as an integer and drops a leading zero byte, so about
 * 1 key in 128 is one that OpenSSH (sshd, ssh, Ansible) refuses to load.
 */
export function generateKeyPair(comment: string): KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The raw keys are the last 32 bytes of their DER encodings.
  const pk = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
  const publicBlob = Buffer.concat([sshString('ssh-ed25519'), sshString(pk)]);
  const check = randomBytes(4);
  const section = Buffer.concat([check, check, publicBlob, sshString(Buffer.concat([seed, pk])), sshString(comment)]);
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1));
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0'),
    sshString('none'),
    sshString('none'),
    sshString(''),
    Buffer.from([0, 0, 0, 1]),
    sshString(publicBlob),
    sshString(Buffer.concat([section, padding])),
  ]).toString('base64');
  const lines = body.match(/.{1,70}/g) ?? [];
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${publicBlob.toString('base64')} ${comment}`,
  };
}

/** Write a private key with mode 0600 (and its `.pub` beside it). */
export async function writeKeyPair(path: string, pair: KeyPair): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, pair.privateKey, { mode: 0o600 });
  await chmod(path, 0o600);
  await writeFile(`${path}.pub`, `${pair.publicKey}\n`, { mode: 0o644 });
}

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The key pair at `path`, generated when neither file exists. Anything else
 * wrong (one file missing, unreadable, damaged, not a pair) is refused, never
 * papered over with a new key: nodes made with the old key would be lost.
 */
export async function ensureKeyPair(path: string, comment: string): Promise<KeyPair> {
  const pub = `${path}.pub`;
  const read = (file: string) => readFile(file, 'utf8').catch((error: unknown) => error as Error);
  const [privateKey, publicKey] = await Promise.all([read(path), read(pub)]);
  const refuse = (problem: string) =>
    new UsageError(`The scenario's SSH key ${problem}; swarm-molecule will not replace it on its own.`, {
      hint: `Restore the file, or run "swarm-molecule reset" (its nodes only accept this key) and then remove ${path} and ${pub}: the next create makes a new key.`,
    });
  if (privateKey instanceof Error || publicKey instanceof Error) {
    const bothMissing = privateKey instanceof Error && publicKey instanceof Error && isMissing(privateKey) && isMissing(publicKey);
    if (!bothMissing) {
      const [file, error] = privateKey instanceof Error ? [path, privateKey] : [pub, publicKey as Error];
      throw refuse(`${file} could not be read (${error.message})`);
    }
    const pair = generateKeyPair(comment);
    await writeKeyPair(path, pair);
    return pair;
  }
  const parsed = ssh2.utils.parseKey(privateKey);
  const problem =
    parsed instanceof Error
      ? `${path} is not a private key ssh can load (${parsed.message})`
      : parsed.getPublicSSH().toString('base64') !== publicKey.trim().split(/\s+/)[1]
        ? `${pub} does not belong to ${path}`
        : undefined;
  if (problem) throw refuse(problem);
  return { privateKey, publicKey: publicKey.trim() };
}
