// hping3's closing statistics (stderr), e.g.
//   --- 198.19.0.1 hping statistic ---
//   2000 packets transmitted, 2000 packets received, 0% packet loss
//   round-trip min/avg/max = 0.0/1.1/1000.9 ms
// Pure: no I/O.

export interface Hping3Summary {
  /** from "N packets transmitted, M packets received, P% packet loss"; undefined if the line is missing */
  readonly stats: { readonly xmt: number; readonly rcv: number } | undefined;
  /** stderr lines that are neither the statistics nor blank (errors, warnings) */
  readonly errors: string[];
}

export function parseHping3Summary(stderr: string): Hping3Summary {
  let stats: Hping3Summary['stats'];
  const errors: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const m = /^(\d+) packets transmitted, (\d+) packets received, \d+% packet loss$/.exec(line);
    if (m !== null) stats = { xmt: Number(m[1]), rcv: Number(m[2]) };
    else if (line !== '' && !/^--- .* hping statistic ---$/.test(line) && !line.startsWith('round-trip min/avg/max')) errors.push(line);
  }
  return { stats, errors };
}
