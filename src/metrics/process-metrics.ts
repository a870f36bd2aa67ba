/**
 * process_* metrics, read at scrape time. prom-client's collectDefaultMetrics is not used: it
 * samples the event loop every 10 ms (a wake-up cost even when idle) and exports gauges named
 * `*_total` that `promtool check metrics` rejects.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Counter, Gauge, type Registry } from 'prom-client';

const PAGE = 4096;

function readMaxFds(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const v = Number(line?.split(/\s+/)[3]);
    return Number.isFinite(v) ? v : NaN;
  } catch {
    return NaN;
  }
}

function readStatm(): { vsize: number; rss: number } {
  try {
    const [size, resident] = readFileSync('/proc/self/statm', 'utf8').split(' ').map(Number);
    return { vsize: (size ?? NaN) * PAGE, rss: (resident ?? NaN) * PAGE };
  } catch {
    return { vsize: NaN, rss: process.memoryUsage.rss() };
  }
}

function countFds(): number {
  try {
    return readdirSync('/proc/self/fd').length;
  } catch {
    return NaN;
  }
}

export function registerProcessMetrics(registry: Registry, startWallMs: number): void {
  const r = [registry];
  const cpu = (name: string, help: string, pick: (u: NodeJS.CpuUsage) => number): void => {
    new Counter({
      name,
      help,
      registers: r,
      collect() {
        this.reset();
        this.inc(pick(process.cpuUsage()) / 1e6);
      },
    });
  };
  cpu('process_cpu_user_seconds_total', 'User CPU time spent in seconds', (u) => u.user);
  cpu('process_cpu_system_seconds_total', 'System CPU time spent in seconds', (u) => u.system);
  cpu('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds', (u) => u.user + u.system);
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: r,
      collect() {
        this.set(read());
      },
    });
  };
  gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds', () => startWallMs / 1000);
  gauge('process_resident_memory_bytes', 'Resident memory size in bytes', () => readStatm().rss);
  gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes', () => readStatm().vsize);
  gauge('process_open_fds', 'Number of open file descriptors', countFds);
  gauge('process_max_fds', 'Maximum number of open file descriptors', readMaxFds);
  gauge('nodejs_heap_size_used_bytes', 'V8 heap in use, in bytes', () => process.memoryUsage().heapUsed);
  gauge('nodejs_heap_size_total_bytes', 'V8 heap reserved, in bytes', () => process.memoryUsage().heapTotal);
  gauge('nodejs_external_memory_bytes', 'Memory of C++ objects bound to JavaScript objects, in bytes', () => process.memoryUsage().external);
  new Gauge({ name: 'nodejs_version_info', help: 'Node.js version', labelNames: ['version'], registers: r }).labels({ version: process.version }).set(1);
}
