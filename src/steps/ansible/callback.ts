import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The environment variable naming the file the callback appends its events to. */
export const EVENTS_ENV = 'SWARM_MOLECULE_EVENTS';

export const CALLBACK_NAME = 'swarm_molecule_events';

/**
 * An Ansible callback plugin that appends every play, task, result and the
 * final stats as one JSON object per line. ansible-core has no JSON callback of
 * its own (ansible.posix has, but is not part of ansible-core), and the harness
 * must never read Ansible's human output, so it brings this one: written next to
 * the inventory before each run, loaded from ANSIBLE_CALLBACK_PLUGINS without
 * being enabled (a notification callback), so Ansible's usual screen output is
 * untouched for the logs.
 *
 * Results are the clean copies Ansible gives every callback: a task with
 * `no_log: true` arrives already censored.
 */
export const CALLBACK_SOURCE = `# Written by swarm-molecule before each run; changes are overwritten.
# Every play, task, result and the final stats as one JSON line, appended to the
# file named by ${EVENTS_ENV}. No screen output of its own.
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = '''
    name: ${CALLBACK_NAME}
    type: notification
    short_description: Task results as JSON lines for swarm-molecule
    description:
      - Appends one JSON object per play, task, result and the final stats to the file named by ${EVENTS_ENV}.
'''


def _clean(value):
    # Module arguments may hold what the task was given (a token): results only.
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if k != 'invocation'}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = '${CALLBACK_NAME}'
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        path = os.environ.get('${EVENTS_ENV}')
        self._out = open(path, 'a', encoding='utf-8') if path else None
        self.disabled = self._out is None

    def _emit(self, event):
        event['time'] = time.time()
        self._out.write(json.dumps(event, default=str, sort_keys=True) + '\\n')
        self._out.flush()

    def v2_playbook_on_play_start(self, play):
        self._emit({'event': 'play', 'name': play.get_name()})

    def _task_start(self, task, handler):
        self._emit({'event': 'task', 'name': task.get_name(), 'action': task.action, 'path': task.get_path(), 'handler': handler})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task_start(task, False)

    def v2_playbook_on_handler_task_start(self, task):
        self._task_start(task, True)

    def _result(self, result, status, ignored=False):
        self._emit({
            'event': 'result',
            'status': status,
            'ignored': bool(ignored),
            'host': result._host.get_name(),
            'task': result._task.get_name(),
            'action': result._task.action,
            'path': result._task.get_path(),
            'result': _clean(dict(result._result)),
        })

    def v2_runner_on_ok(self, result):
        self._result(result, 'changed' if result._result.get('changed', False) else 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'failed', ignored=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_playbook_on_stats(self, stats):
        hosts = {host: stats.summarize(host) for host in sorted(stats.processed.keys())}
        self._emit({'event': 'stats', 'hosts': hosts})
`;

/** Write the callback plugin into `dir` (for ANSIBLE_CALLBACK_PLUGINS). */
export async function writeCallbackPlugin(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, `${CALLBACK_NAME}.py`), CALLBACK_SOURCE, { mode: 0o600 });
}
