import { describe, expect, it } from 'vitest';
import { iptablesPartitionCommand, PARTITION_CHAIN, partitionPlan, partitionRecord, partitionScript, PARTITION_TABLE, sidesText } from './partition.js';

const nodes = ['m1', 'm2', 'm3', 'w1', 'w2'].map((name, i) => ({ name, netns: `sm-abc-${name}`, address: `10.213.3.${11 + i}` }));

describe('partitionPlan', () => {
  it('has each node drop what comes from the other side, and nodes on neither side drop nothing', () => {
    const plan = partitionPlan(nodes, [['m1'], ['m2', 'm3', 'w1']]);
    expect(Object.fromEntries(plan)).toEqual({
      m1: ['10.213.3.12', '10.213.3.13', '10.213.3.14'],
      m2: ['10.213.3.11'],
      m3: ['10.213.3.11'],
      w1: ['10.213.3.11'],
      w2: [],
    });
  });

  it('refuses unknown nodes, an empty side and a node on both sides', () => {
    expect(() => partitionPlan(nodes, [['m9'], ['m1']])).toThrow('no node named m9');
    expect(() => partitionPlan(nodes, [[], ['m1']])).toThrow('each side needs at least one node');
    expect(() => partitionPlan(nodes, [['m1', 'm2'], ['m2']])).toThrow('m2 is on both sides');
  });
});

describe('partitionScript', () => {
  it('replaces the table atomically: create (so the delete never fails), delete, then the drop rule before conntrack', () => {
    expect(partitionScript(['10.213.3.12', '10.213.3.13'])).toBe(
      [
        `table inet ${PARTITION_TABLE}`,
        `delete table inet ${PARTITION_TABLE}`,
        `table inet ${PARTITION_TABLE} {`,
        '  chain cut {',
        '    type filter hook prerouting priority raw; policy accept;',
        '    ip saddr { 10.213.3.12, 10.213.3.13 } drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('only removes the table when there is nothing to drop (heal)', () => {
    expect(partitionScript([])).toBe(`table inet ${PARTITION_TABLE}\ndelete table inet ${PARTITION_TABLE}\n`);
  });

  it('refuses anything but IPv4 addresses in the script', () => {
    expect(() => partitionScript(['10.0.0.1 } accept; chain x {'])).toThrow('is not an IPv4 address');
  });
});

describe('iptablesPartitionCommand', () => {
  it('passes the addresses as arguments of a fixed script: remove our chain, build it, then jump to it first from raw PREROUTING', () => {
    const [sh, flag, script, zero, ...args] = iptablesPartitionCommand(['10.215.3.12', '10.215.3.13']);
    expect([sh, flag, zero]).toEqual(['sh', '-c', 'sh']);
    expect(args).toEqual(['10.215.3.12', '10.215.3.13']);
    expect(script).toContain(`c=${PARTITION_CHAIN}`);
    expect(script).not.toContain('10.215');
    const lines = script?.split('\n') ?? [];
    const at = (text: string) => lines.findIndex((l) => l.includes(text));
    // Heal first (every jump, then the chain), stop there without addresses, else the chain before the jump.
    expect(at('-D PREROUTING')).toBeLessThan(at('-X "$c"'));
    expect(at('-X "$c"')).toBeLessThan(at('[ "$#" -gt 0 ] || exit 0'));
    expect(at('-N "$c"')).toBeLessThan(at('-A "$c" -s "$a/32" -j DROP'));
    expect(at('-j DROP')).toBeLessThan(at('-I PREROUTING 1 -j "$c"'));
  });

  it('heals with no address, and refuses anything but IPv4 addresses', () => {
    expect(iptablesPartitionCommand([])).toHaveLength(4);
    expect(() => iptablesPartitionCommand(['10.0.0.1; reboot'])).toThrow('is not an IPv4 address');
  });
});

describe('the partition record', () => {
  it('copies the sides and says them as a line', () => {
    const a = ['m1'];
    const record = partitionRecord([a, ['m2', 'm3']]);
    a.push('m9');
    expect(record).toEqual({ sides: [['m1'], ['m2', 'm3']] });
    expect(sidesText(record.sides)).toBe('m1 | m2, m3');
  });
});
