import { describe, expect, it } from 'vitest';
import { parseMachineReadable } from './client.js';
import { boxesOf, hasHardwareVirtualisation } from './sanity.js';

describe('sanity helpers', () => {
  it('reads vmx/svm from /proc/cpuinfo', () => {
    expect(hasHardwareVirtualisation('processor\t: 0\nflags\t\t: fpu vme de pse vmx sse2\n')).toBe(true);
    expect(hasHardwareVirtualisation('flags\t\t: fpu svm\n')).toBe(true);
    expect(hasHardwareVirtualisation('flags\t\t: fpu vme de pse sse2 hypervisor\n')).toBe(false);
  });

  it('reads boxes and their providers from vagrant box list', () => {
    const lines = parseMachineReadable(
      [
        '1,,box-name,debian/bookworm64',
        '1,,box-provider,virtualbox',
        '1,,box-version,12.20240503.1',
        '1,,box-name,debian/bookworm64',
        '1,,box-provider,libvirt',
        '1,,box-version,12.20240503.1',
        '1,,box-name,generic/alpine319',
        '1,,box-provider,libvirt',
      ].join('\n'),
    );
    expect([...boxesOf(lines)]).toEqual(['debian/bookworm64 virtualbox', 'debian/bookworm64 libvirt', 'generic/alpine319 libvirt']);
  });
});
