import { describe, expect, it } from 'vitest';
import { partitionPlan, partitionScript, PARTITION_TABLE } from './partition.js';

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
