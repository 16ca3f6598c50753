import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a run: a token unique to one open Store, and the process behind it. */
export interface Owner {
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  /** The process's start time as the kernel reports it (Linux), so that a reused pid is not taken for the owner. */
  readonly started: string | null;
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat); null where unavailable. */
export const processStart = (pid: number): string | null => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
};

export const currentOwner = (): Owner => ({
  token: randomBytes(12).toString('hex'),
  pid: process.pid,
  host: hostname(),
  started: processStart(process.pid),
});

/** Whether process `pid` on this host is still the one that claimed (same start time where known). */
const processAlive = (pid: number, started: string | null): boolean => {
  try {
    process.kill(pid, 0);
  } catch (u) {
    // EPERM: it exists but belongs to another user.
    if ((u as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = processStart(pid);
  return started === null || now === null || now === started;
};

export interface Holder {
  readonly token: string | null;
  readonly pid: number | null;
  readonly host: string | null;
  readonly started: string | null;
  readonly heartbeatAt: number | null;
}

/**
 * Whether a run's holder still holds it. On this host the process table decides (a training step can block the
 * event loop longer than any lease, so an alive owner keeps its run); elsewhere, or for another Store in this
 * very process, the lease does: the holder must have sent a heartbeat within `leaseMs`.
 */
export const holds = (h: Holder, me: Owner, now: number, leaseMs: number): boolean => {
  if (h.token === null) return false;
  if (h.token === me.token) return true;
  const fresh = h.heartbeatAt !== null && now - h.heartbeatAt <= leaseMs;
  if (h.host === me.host && h.pid !== null && h.pid !== me.pid) return processAlive(h.pid, h.started);
  return fresh;
};
