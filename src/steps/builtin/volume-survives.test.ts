import { describe, expect, it } from 'vitest';
import { volumeMount, volumeVerdict } from './volume-survives.js';

describe('volumeMount', () => {
  const data = { Type: 'volume', Source: 'demo_data', Target: '/data' };
  const bind = { Type: 'bind', Source: '/srv', Target: '/srv' };
  it('takes the only named volume, or the one at target', () => {
    expect(volumeMount([bind, data], undefined)).toEqual({ mount: data });
    expect(volumeMount([bind, data, { ...data, Source: 'demo_logs', Target: '/logs' }], '/logs').mount?.Source).toBe('demo_logs');
  });
  it('says what the service mounts when it cannot choose', () => {
    expect(volumeMount([bind], undefined).problem).toBe('it mounts no named volume (mounts: bind /srv → /srv)');
    expect(volumeMount([data, { ...data, Source: 'b', Target: '/b' }], undefined).problem).toMatch(/^it mounts 2 volumes; say which with target/);
    expect(volumeMount([data], '/other').problem).toBe('it mounts no named volume at /other (mounts: volume demo_data → /data)');
  });
});

describe('volumeVerdict', () => {
  const local = { driver: 'local', writtenOn: 'w1' };
  it('a local volume: the marker stays on the node where it was written, and the step says so when the task moved', () => {
    expect(volumeVerdict({ ...local, nowOn: 'w2', inNewTask: false, whereWritten: true })).toEqual({
      note: 'a local volume does not follow the task to another node: the task moved w1 → w2 and starts with that node\'s own volume; the marker stayed on w1, where it was written',
    });
    expect(volumeVerdict({ ...local, nowOn: 'w1', inNewTask: true, whereWritten: true }).problem).toBeUndefined();
  });
  it('a local volume: a lost marker, a restart on the same node that does not see it, or a marker seen elsewhere fail', () => {
    expect(volumeVerdict({ ...local, nowOn: 'w2', inNewTask: false, whereWritten: false }).problem).toBe('the local volume on w1 lost the marker written there');
    expect(volumeVerdict({ ...local, nowOn: 'w1', inNewTask: false, whereWritten: true }).problem).toMatch(/same node\) does not see the marker/);
    expect(volumeVerdict({ ...local, nowOn: 'w2', inNewTask: true, whereWritten: true }).problem).toMatch(/which is per node/);
  });
  it('another driver is shared storage: the marker must follow the task', () => {
    expect(volumeVerdict({ driver: 'nfs', writtenOn: 'w1', nowOn: 'w2', inNewTask: true, whereWritten: false })).toEqual({ note: 'the marker written on w1 followed the task to w2 (volume driver nfs)' });
    expect(volumeVerdict({ driver: 'nfs', writtenOn: 'w1', nowOn: 'w2', inNewTask: false, whereWritten: false }).problem).toMatch(/does not see the marker written on w1 through the nfs volume/);
  });
});
