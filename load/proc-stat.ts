import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time of a process from Linux's /proc/<pid>/stat: utime + stime (fields 14 and 15, in
 * clock ticks), all threads included, so Artillery's worker threads and the JVM's threads
 * count. https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */
export interface CpuTicks {
  readonly user: number;
  readonly system: number;
}

/** Parse one /proc/<pid>/stat line. The command name (field 2) may contain spaces and ')'. */
export function parseProcStat(line: string): CpuTicks {
  const afterName = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // afterName[0] is field 3 (state), so field n is afterName[n - 3].
  const user = Number(afterName[14 - 3]);
  const system = Number(afterName[15 - 3]);
  if (!Number.isFinite(user) || !Number.isFinite(system)) throw new Error(`Not a /proc/<pid>/stat line: '${line.slice(0, 80)}'`);
  return { user, system };
}

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** CPU seconds the process has used so far, or undefined if it is gone (or not on Linux). */
function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const { user, system } = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return (user + system) / clockTicksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU seconds of several processes between two moments. */
export class CpuWindow<Name extends string> {
  private readonly started: Partial<Record<Name, number>> = {};
  private readonly ended: Partial<Record<Name, number>> = {};

  constructor(private readonly pids: Partial<Record<Name, number>>) {}

  start(): void {
    for (const [name, pid] of Object.entries(this.pids) as [Name, number | undefined][]) this.started[name] = cpuSeconds(pid);
  }

  end(): void {
    for (const [name, pid] of Object.entries(this.pids) as [Name, number | undefined][]) this.ended[name] = cpuSeconds(pid);
  }

  /** Seconds used in the window per process; undefined where a sample is missing. */
  used(): Partial<Record<Name, number>> {
    const used: Partial<Record<Name, number>> = {};
    for (const name of Object.keys(this.pids) as Name[]) {
      const start = this.started[name];
      const end = this.ended[name];
      if (start !== undefined && end !== undefined) used[name] = end - start;
    }
    return used;
  }
}
