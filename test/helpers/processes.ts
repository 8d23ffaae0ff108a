// The machine's processes as /proc lists them, for set-ups and tests that look for what they
// started (an engine's daemons, conmon, a server below npm).
import { readdir, readFile } from 'node:fs/promises';

/** One process: its pid, its parent's and its arguments. */
export interface ProcessEntry {
  readonly pid: number;
  readonly parent: number;
  readonly argv: readonly string[];
}

/** Every process but this one; those that end while the table is read are left out. */
export async function listProcesses(): Promise<ProcessEntry[]> {
  const entries: ProcessEntry[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const [stat, cmdline] = await Promise.all([
        readFile(`/proc/${entry}/stat`, 'utf8'),
        readFile(`/proc/${entry}/cmdline`, 'utf8'),
      ]);
      // The parent is the second field after the command name, which may hold spaces.
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      entries.push({ pid: Number(entry), parent, argv: cmdline.split('\0').slice(0, -1) });
    } catch {
      // Ended since it was listed.
    }
  }
  return entries;
}

/** The processes below `ancestor`, at any depth. */
export function descendantsOf(
  processes: readonly ProcessEntry[],
  ancestor: number,
): ProcessEntry[] {
  const parentOf = new Map(processes.map((entry) => [entry.pid, entry.parent]));
  const isBelow = (pid: number): boolean => {
    const parent = parentOf.get(pid);
    return parent === ancestor || (parent !== undefined && parent > 1 && isBelow(parent));
  };
  return processes.filter((entry) => isBelow(entry.pid));
}
