/** One entry of a tar archive; paths are relative (`bin/busybox`), directories without a trailing slash. */
export type TarEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; content: Buffer | string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

const BLOCK = 512;
// A fixed time makes the archive, and so the imported layer, the same on every run.
const MTIME = 0;

function writeString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar: "${value}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

/** A NUL-terminated octal number filling `length` bytes. */
function writeOctal(header: Buffer, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, '0')}\0`);
}

/** Split a path into ustar's name (100 bytes) and prefix (155 bytes). */
function splitPath(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  const cut = path.lastIndexOf('/', 155);
  if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`tar: path too long for ustar: ${path}`);
  return { name: path.slice(cut + 1), prefix: path.slice(0, cut) };
}

/** The 512-byte ustar header of `entry` holding `size` bytes of data (for writers that stream the data themselves). */
export function tarHeader(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  const path = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const { name, prefix } = splitPath(path);
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  writeString(h, 0, 100, name);
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0); // uid root
  writeOctal(h, 116, 8, 0); // gid root
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, MTIME);
  h.fill(' ', 148, 156); // the checksum counts its own field as spaces
  writeString(h, 156, 1, entry.type === 'dir' ? '5' : entry.type === 'symlink' ? '2' : '0');
  if (entry.type === 'symlink') writeString(h, 157, 100, entry.target);
  writeString(h, 257, 6, 'ustar\0');
  writeString(h, 263, 2, '00');
  writeString(h, 265, 32, 'root');
  writeString(h, 297, 32, 'root');
  writeString(h, 345, 155, prefix);
  let sum = 0;
  for (const byte of h) sum += byte;
  writeString(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** A POSIX ustar archive of `entries`, in order, owned by root, with a fixed mtime. */
export function tar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const content = entry.type === 'file' ? (typeof entry.content === 'string' ? Buffer.from(entry.content, 'utf8') : entry.content) : Buffer.alloc(0);
    parts.push(tarHeader(entry, content.length), content);
    const padding = (BLOCK - (content.length % BLOCK)) % BLOCK;
    if (padding > 0) parts.push(Buffer.alloc(padding));
  }
  // Two zero blocks end the archive.
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
