import { describe, expect, it } from 'vitest';
import { Secrets } from './index.js';

describe('Secrets', () => {
  it('masks registered values everywhere they appear', () => {
    const secrets = new Secrets();
    secrets.add('super-secret-value\n');
    expect(secrets.mask('a super-secret-value and super-secret-value')).toBe('a ******** and ********');
  });

  it('masks swarm join tokens it was never told about', () => {
    const secrets = new Secrets();
    const token = 'SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx';
    expect(secrets.mask(`docker swarm join --token ${token} 10.0.0.1:2377`)).toBe('docker swarm join --token ******** 10.0.0.1:2377');
  });

  it('ignores values too short to be secrets (they would mask ordinary words)', () => {
    const secrets = new Secrets();
    secrets.add('ok');
    expect(secrets.mask('ok')).toBe('ok');
  });
});
