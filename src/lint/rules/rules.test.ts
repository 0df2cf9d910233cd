import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../config/index.js';
import { lintScenario } from '../index.js';

const project = await mkdtemp(join(tmpdir(), 'swarm-molecule-rules-'));
let count = 0;

/** `line:col` of each finding of one rule. */
async function findings(rule: string, text: string): Promise<string[]> {
  const name = `s${count++}`;
  await mkdir(join(project, 'scenarios', name), { recursive: true });
  await writeFile(join(project, 'scenarios', name, 'scenario.yml'), text);
  const scenario = await loadScenario(project, name);
  return (await lintScenario(scenario))
    .filter((d) => d.code === rule)
    .map((d) => `${d.line}:${d.col}`);
}

async function messages(rule: string, text: string): Promise<string[]> {
  const name = `s${count++}`;
  await mkdir(join(project, 'scenarios', name), { recursive: true });
  await writeFile(join(project, 'scenarios', name, 'scenario.yml'), text);
  return (await lintScenario(await loadScenario(project, name)))
    .filter((d) => d.code === rule)
    .map((d) => d.message);
}

/** n managers (the first is the leader) and m workers, with labels on the workers. */
function platforms(managers: number, workers: number, labels = ''): string {
  const lines = ['platforms:'];
  for (let i = 1; i <= managers; i++) lines.push(`  - name: manager-0${i}`, `    groups: [${i === 1 ? 'swarm-leader, swarm-manager' : 'swarm-manager'}]`);
  for (let i = 1; i <= workers; i++) lines.push(`  - name: worker-0${i}`, '    groups: [swarm-worker]', ...(labels ? [`    labels: ${labels}`] : []));
  return `${lines.join('\n')}\n`;
}

describe('yaml-tabs', () => {
  it('finds a tab used as separation', async () => {
    expect(await findings('yaml-tabs', 'platforms:\n  - name:\tnode-01\n')).toEqual(['2:10']);
    expect(await findings('yaml-tabs', 'platforms:\n  - name: node-01\n')).toEqual([]);
  });
});

describe('yaml-trailing-spaces', () => {
  it('finds spaces and tabs at the end of a line, and only there', async () => {
    expect(await findings('yaml-trailing-spaces', 'platforms:  \n  - name: node-01\t\n')).toEqual(['1:11', '2:18']);
    expect(await findings('yaml-trailing-spaces', 'platforms:\n  - name: node-01 # a comment\n')).toEqual([]);
  });

  it('copes with CRLF line ends', async () => {
    expect(await findings('yaml-trailing-spaces', 'platforms:\r\n  - name: node-01\r\n')).toEqual([]);
  });
});

describe('yaml-duplicate-keys', () => {
  it('reports each later occurrence of a key', async () => {
    const text = 'platforms:\n  - name: node-01\n    groups: [a]\n    groups: [b]\nplatforms:\n  - name: node-02\n';
    expect(await findings('yaml-duplicate-keys', text)).toEqual(['4:5', '5:1']);
    expect(await messages('yaml-duplicate-keys', text)).toContain('Duplicate key "groups": this value replaces the one at line 3.');
  });

  it('allows the same key in different mappings', async () => {
    expect(await findings('yaml-duplicate-keys', 'platforms:\n  - name: a\n  - name: b\n')).toEqual([]);
  });
});

describe('yaml-indentation', () => {
  it('accepts consistent indentation, lists indented or not', async () => {
    expect(await findings('yaml-indentation', platforms(1, 1, '{ zone: a }'))).toEqual([]);
    expect(await findings('yaml-indentation', 'platforms:\n- name: a\n  labels:\n    zone: a\ndriver:\n  options:\n    x: 1\n')).toEqual([]);
  });

  it('finds a mapping indented by another width', async () => {
    expect(await findings('yaml-indentation', 'driver:\n  name: netns\n  options:\n      a: 1\nplatforms:\n  - name: a\n')).toEqual(['4:7']);
  });

  it('finds a list indented unlike the first one', async () => {
    const text = 'platforms:\n  - name: a\nconverge:\n- step: swarm/init\n';
    expect(await findings('yaml-indentation', text)).toEqual(['4:1']);
    expect(await messages('yaml-indentation', text)).toEqual(['This list is not indented under its key; the one at line 2 is.']);
  });

  it('finds list items that start further after the dash', async () => {
    expect(await findings('yaml-indentation', 'platforms:\n  - name: a\n  -   name: b\n')).toEqual(['3:7']);
  });
});

describe('yaml-truthy', () => {
  it('finds yes/no/on/off as plain keys or values', async () => {
    const text = 'platforms:\n  - name: a\n    labels: { ssd: yes, fast: Off, quoted: "no", word: yesterday }\nverify:\n  - step: x\n    with: { on: true }\n';
    expect(await findings('yaml-truthy', text)).toEqual(['3:20', '3:31', '6:13']);
  });

  it('leaves the settings of lint.rules alone', async () => {
    expect(await findings('yaml-truthy', 'platforms:\n  - name: a\nlint:\n  rules:\n    yaml-tabs: off\n')).toEqual([]);
  });
});

describe('swarm-even-managers', () => {
  it('warns at the last manager of an even number', async () => {
    expect(await findings('swarm-even-managers', platforms(2, 1))).toEqual(['4:11']);
    expect(await findings('swarm-even-managers', platforms(4, 0))).toEqual(['8:11']);
  });

  it('accepts an odd number', async () => {
    expect(await findings('swarm-even-managers', platforms(1, 2))).toEqual([]);
    expect(await findings('swarm-even-managers', platforms(3, 0))).toEqual([]);
  });
});

describe('swarm-too-many-managers', () => {
  it('warns at the eighth manager', async () => {
    expect(await findings('swarm-too-many-managers', platforms(9, 0))).toEqual(['16:11']);
    expect(await findings('swarm-too-many-managers', platforms(7, 0))).toEqual([]);
  });
});

describe('swarm-all-nodes-drained', () => {
  const converge = 'converge:\n  - step: swarm/init\n  - step: swarm/drain-managers\n';
  it('warns when drained managers leave no node', async () => {
    expect(await findings('swarm-all-nodes-drained', `${platforms(3, 0)}${converge}`)).toEqual(['10:11']);
    expect(await findings('swarm-all-nodes-drained', `${platforms(3, 1)}${converge}`)).toEqual([]);
  });
});

describe('swarm-no-schedulable-node', () => {
  it('needs a worker for the default constraint', async () => {
    const text = `${platforms(3, 0)}verify:\n  - step: swarm/published-port\n    with: { port: 8080 }\n`;
    expect(await findings('swarm-no-schedulable-node', text)).toEqual(['9:11']);
    expect(await findings('swarm-no-schedulable-node', text.replace('port: 8080', 'port: 8080, constraints: [node.role==manager]'))).toEqual([]);
  });

  it('counts drained managers out', async () => {
    const text = `${platforms(3, 0)}converge:\n  - step: swarm/drain-managers\nverify:\n  - step: swarm/rolling-update\n    with:\n      constraints: [node.role==manager]\n`;
    expect(await findings('swarm-no-schedulable-node', text)).toEqual(['13:20']);
  });

  it('counts only the hosts a drain-managers entry names as drained', async () => {
    const text = `${platforms(3, 0)}converge:\n  - step: swarm/drain-managers\n    hosts: manager-02\nverify:\n  - step: swarm/rolling-update\n    with: { constraints: [node.role==manager] }\n`;
    expect(await findings('swarm-no-schedulable-node', text)).toEqual([]);
    expect(await findings('swarm-all-nodes-drained', text)).toEqual([]);
  });

  it('leaves options that do not validate to the syntax check', async () => {
    const text = `${platforms(3, 0)}verify:\n  - step: swarm/rolling-update\n    with: { constraints: node.role==worker }\n`;
    expect(await findings('swarm-no-schedulable-node', text)).toEqual([]);
  });

  it('matches label and hostname constraints', async () => {
    const base = `${platforms(1, 2, '{ zone: a }')}verify:\n  - step: swarm/rolling-update\n    with:\n`;
    expect(await findings('swarm-no-schedulable-node', `${base}      constraints: [node.labels.zone==a]\n`)).toEqual([]);
    expect(await findings('swarm-no-schedulable-node', `${base}      constraints: [node.labels.zone==b]\n`)).toEqual(['13:20']);
    expect(await findings('swarm-no-schedulable-node', `${base}      constraints: [node.role==worker, node.labels.zone!=a]\n`)).toEqual(['13:20']);
    expect(await findings('swarm-no-schedulable-node', `${base}      constraints: [node.hostname == worker-02]\n`)).toEqual([]);
  });

  it('needs a node per replica for swarm/published-port', async () => {
    const text = `${platforms(1, 1)}verify:\n  - step: swarm/published-port\n`;
    expect(await findings('swarm-no-schedulable-node', text)).toEqual(['7:11']);
    expect(await findings('swarm-no-schedulable-node', `${text}    with: { replicas: 1 }\n`)).toEqual([]);
  });

  it('needs two workers that match for swarm/failover-workers', async () => {
    const verify = 'verify:\n  - step: swarm/failover-workers\n';
    expect(await findings('swarm-no-schedulable-node', `${platforms(1, 2)}${verify}`)).toEqual([]);
    expect(await findings('swarm-no-schedulable-node', `${platforms(1, 2)}${verify}    with: { constraints: [node.hostname==worker-01] }\n`)).toEqual(['10:26']);
  });

  it('leaves what the step itself requires to the syntax check', async () => {
    // swarm/failover-workers requires 2 workers: syntax reports it, once.
    expect(await findings('swarm-no-schedulable-node', `${platforms(1, 1)}verify:\n  - step: swarm/failover-workers\n`)).toEqual([]);
  });
});

describe('swarm-rolling-update-parallelism', () => {
  const base = `${platforms(1, 2)}verify:\n  - step: swarm/rolling-update\n`;
  it('needs more replicas than parallelism', async () => {
    expect(await findings('swarm-rolling-update-parallelism', `${base}    with: { replicas: 2, parallelism: 2 }\n`)).toEqual(['10:23']);
    expect(await findings('swarm-rolling-update-parallelism', `${base}    with: { parallelism: 3 }\n`)).toEqual(['10:26']);
    expect(await findings('swarm-rolling-update-parallelism', `${base}    with: { replicas: 2, parallelism: 3 }\n`)).toEqual(['10:23']);
  });

  it('accepts the defaults', async () => {
    expect(await findings('swarm-rolling-update-parallelism', base)).toEqual([]);
  });
});

describe('verify-disruptive-without-restore', () => {
  const entry = '  - step: swarm/failover-leader\n    with: { restore: false }\n';
  it('flags restore: false when more verify steps follow', async () => {
    expect(await findings('verify-disruptive-without-restore', `${platforms(3, 2)}verify:\n${entry}  - step: swarm/node-roles\n`)).toEqual(['14:22']);
  });

  it('allows it as the last step, and allows restoring steps anywhere', async () => {
    expect(await findings('verify-disruptive-without-restore', `${platforms(3, 2)}verify:\n  - step: swarm/node-roles\n${entry}`)).toEqual([]);
    expect(await findings('verify-disruptive-without-restore', `${platforms(3, 2)}verify:\n  - step: swarm/failover-workers\n  - step: swarm/node-roles\n`)).toEqual([]);
  });
});

describe('swarm-unknown-label', () => {
  it('flags constraints on a label key no platform has, in any step', async () => {
    const text = `${platforms(1, 2, '{ zone: a }')}verify:\n  - step: ./steps/custom.ts\n    with:\n      constraints: [node.labels.zone==a, node.labels.zon!=b, node.role==worker]\n`;
    expect(await findings('swarm-unknown-label', text)).toEqual(['13:42']);
    expect(await messages('swarm-unknown-label', text)).toEqual(['No platform has the label "zon". Did you mean "zone"?']);
  });
});

describe('swarm-unknown-group', () => {
  it('flags swarm- groups that are not the three roles', async () => {
    expect(await findings('swarm-unknown-group', 'platforms:\n  - name: a\n    groups: [swarm-leader, swarm-workers, web]\n')).toEqual(['3:28']);
  });
});

describe('swarm-conflicting-roles', () => {
  it('flags a manager that is also in swarm-worker', async () => {
    expect(await findings('swarm-conflicting-roles', 'platforms:\n  - name: a\n    groups: [swarm-leader, swarm-worker]\n')).toEqual(['3:28']);
    expect(await findings('swarm-conflicting-roles', platforms(3, 3))).toEqual([]);
  });
});
