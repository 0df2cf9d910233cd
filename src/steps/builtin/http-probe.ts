/** One request the probe task made, as it printed it. */
export interface ProbeAttempt {
  attempt: number;
  /** wget's exit code: 0 for a 2xx answer. */
  exitCode: number;
  /** The HTTP status, or undefined when there was no answer (refused, timed out, no such host). */
  status?: number;
  /** From request to answer, at the 10 ms resolution of /proc/uptime. */
  latencyMs: number;
  body: string;
}

/**
 * The probe task's script (busybox sh): up to $SM_ATTEMPTS GETs of $SM_URL, one
 * a second, each printed on one line; it stops at the first answer with
 * $SM_STATUS. Every applet through /bin/busybox: the test image has no links.
 */
export const PROBE_SCRIPT = [
  'b=/bin/busybox; i=0',
  'while [ "$i" -lt "$SM_ATTEMPTS" ]; do',
  '  i=$((i+1))',
  '  s=$($b cut -d" " -f1 /proc/uptime | $b tr -d .)',
  // busybox timeout, not wget -T: the static busybox's wget crashes on -T.
  '  $b timeout 10 $b wget -S -O /tmp/body "$SM_URL" 2>/tmp/headers; rc=$?',
  '  e=$($b cut -d" " -f1 /proc/uptime | $b tr -d .)',
  '  st=$($b grep -m1 "^ *HTTP/" /tmp/headers | $b awk "{print \\$2}")',
  '  echo "sm-probe attempt=$i rc=$rc status=${st:-none} ms=$(( (e-s)*10 )) body=$($b head -c 4096 /tmp/body 2>/dev/null | $b base64 | $b tr -d "\\n")"',
  '  [ "$st" = "$SM_STATUS" ] && exit 0',
  '  $b sleep 1',
  'done',
  'exit 1',
].join('\n');

const LINE = /sm-probe attempt=(\d+) rc=(\d+) status=(\S+) ms=(-?\d+) body=(\S*)/;

/** The attempts in the probe task's log, in order. */
export function parseProbeLog(log: string): ProbeAttempt[] {
  return log.split('\n').flatMap((line) => {
    const match = LINE.exec(line);
    if (!match) return [];
    const [, attempt = '0', rc = '0', status = 'none', ms = '0', body = ''] = match;
    return [
      {
        attempt: Number(attempt),
        exitCode: Number(rc),
        ...(status === 'none' ? {} : { status: Number(status) }),
        latencyMs: Math.max(0, Number(ms)),
        body: Buffer.from(body, 'base64').toString('utf8'),
      },
    ];
  });
}

/** What is wrong with an attempt against what is expected; undefined when it holds. */
export function probeProblem(attempt: ProbeAttempt, want: { status: number; body?: RegExp; maxLatencyMs?: number }): string | undefined {
  if (attempt.status === undefined) return `no answer (wget exit ${attempt.exitCode})`;
  if (attempt.status !== want.status) return `status ${attempt.status}, not ${want.status}`;
  if (want.body && !want.body.test(attempt.body)) return `the body does not match /${want.body.source}/`;
  if (want.maxLatencyMs !== undefined && attempt.latencyMs > want.maxLatencyMs) return `answered in ${attempt.latencyMs} ms, more than ${want.maxLatencyMs} ms`;
  return undefined;
}
