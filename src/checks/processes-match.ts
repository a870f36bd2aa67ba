/** Pure part of the processes check: procfs file contents → fields, and the match rule. */

export interface ProcessInfo {
  /** /proc/<pid>/comm without its newline; null when not read */
  readonly comm: string | null;
  /** /proc/<pid>/cmdline split at NULs; null when not read */
  readonly argv: readonly string[] | null;
  /** effective uid from /proc/<pid>/status; null when not read */
  readonly uid: number | null;
}

export interface ProcessMatcher {
  /** exact comm */
  readonly name?: string;
  /** searched in the arguments joined with single spaces */
  readonly cmdline?: RegExp;
  readonly uid?: number;
}

export function parseComm(text: string): string {
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/** NUL-separated arguments; the trailing NUL does not make an empty argument. */
export function parseCmdline(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** The effective uid: second field of the `Uid:` line (real, effective, saved, filesystem). */
export function parseEffectiveUid(status: string): number | null {
  const m = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return m === null ? null : Number(m[1]);
}

/** The uid of `user` in /etc/passwd text, or null if it has no entry. */
export function uidFromPasswd(passwd: string, user: string): number | null {
  for (const line of passwd.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name === user && uid !== undefined && /^\d+$/.test(uid)) return Number(uid);
  }
  return null;
}

export function matches(p: ProcessInfo, m: ProcessMatcher): boolean {
  if (m.name !== undefined && p.comm !== m.name) return false;
  if (m.uid !== undefined && p.uid !== m.uid) return false;
  if (m.cmdline !== undefined && (p.argv === null || !m.cmdline.test(p.argv.join(' ')))) return false;
  return true;
}

/** What the file reads of one process need to fetch for the matcher. */
export function filesNeeded(m: ProcessMatcher): { comm: boolean; cmdline: boolean; status: boolean } {
  return { comm: m.name !== undefined, cmdline: m.cmdline !== undefined, status: m.uid !== undefined };
}
