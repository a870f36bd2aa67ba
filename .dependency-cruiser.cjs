/**
 * The layers of wireprobe's source tree, checked by dependency-cruiser (`make deps-check`, part of
 * `make test`). Read this first when you wonder where a new file goes or whether an import is
 * allowed.
 *
 * A module may import, inside src/:
 *   - modules of its own layer entry (its own folder), and
 *   - modules of layers with a LOWER rank.
 * Layers of the same rank are peers and do not import each other (probes and checks, net and
 * dns, inventory and metrics, ...). Type-only imports count too: a type belongs to the lowest layer that
 * needs it. No import cycle is allowed anywhere, not even between two files of one folder.
 *
 * Which third-party packages a folder may use (raw-socket and pcap only in net/, prom-client only
 * in metrics/ and the servers, ...) is enforced by eslint.config.js.
 */

/** Lowest first. `path` is a regular expression on the path relative to the repository root. */
const LAYERS = [
  // Foundations: coded errors, logger, clock, bounded exec, small data helpers, statistics.
  { name: 'lib', rank: 0, path: '^src/(lib|types)/', role: 'errors, logger, clock, exec, heap, obj helpers; ambient typings' },
  { name: 'stats', rank: 0, path: '^src/stats/', role: 'pure statistics (percentiles)' },
  // The configuration model: types every layer reads, loading and validation.
  // The check kinds' config sides (src/checks/<kind>-config.ts and their table config-rules.ts)
  // live next to their kind but belong to this layer: config loading applies them.
  { name: 'config', rank: 1, path: '^src/(config/|checks/([a-z]+-config|config-rules)\\.ts$)', role: 'config types, YAML loading, schema and semantic checks' },
  // Pure codecs: bytes in, structures out, no I/O.
  { name: 'packet', rank: 2, path: '^src/packet/', role: 'pure packet codecs and BPF filter text' },
  // I/O at the edge: raw sockets, pcap, routes; name resolution.
  { name: 'net', rank: 3, path: '^src/net/', role: 'raw sockets, capture, routes, the probe engine (main thread only)' },
  { name: 'dns', rank: 3, path: '^src/dns/', role: 'bounded name resolution' },
  // Operator tools: IP calculator, MAC vendor (OUI) lookup, WHOIS and RDAP clients.
  { name: 'tools', rank: 3.5, path: '^src/tools/', role: 'IP calculator, OUI lookup, WHOIS/RDAP (bounded)' },
  // One file per probe type / check kind behind one interface.
  { name: 'probes', rank: 4, path: '^src/probes/', role: 'probe types (icmp, tcp-syn, udp-unreachable) and their registry' },
  { name: 'checks', rank: 4, path: '^src/checks/', role: 'host checks (routes, conntrack, dhcp, processes) and their runner' },
  // The worker threads run pure parsers of packet/ and checks/; checks reach the pool through
  // the narrow FlowPool interface of checks/types.ts, never by importing workers/.
  { name: 'workers', rank: 5, path: '^src/workers/', role: 'the piscina pool, its task table and the worker entry points' },
  // Time: who probes when.
  { name: 'scheduler', rank: 6, path: '^src/scheduler/', role: 'rounds, phases, the probe loop (injected clock)' },
  // The set of targets and their probe loops.
  { name: 'targets', rank: 7, path: '^src/targets/', role: 'target sets, their sources and the target manager' },
  // Results become series.
  { name: 'metrics', rank: 8, path: '^src/metrics/', role: 'metric catalog, recorders, the series of each target, the fast exposition registry' },
  { name: 'inventory', rank: 8, path: '^src/inventory/', role: 'dynamic inventories (plugins, supervisor)' },
  { name: 'reload', rank: 8, path: '^src/reload\\.ts$', role: 'config file watching, keep-last-good' },
  // Subsystems built on the engine, the pool and the metrics.
  { name: 'operations', rank: 8.5, path: '^src/operations/', role: 'on-demand ping, traceroute, mtr through the engine' },
  { name: 'flows', rank: 8.5, path: '^src/flows/', role: 'NetFlow v5/v9/IPFIX collector, top talkers, flow stores' },
  // Many wireprobes as one: membership, dispatch and the shared inventory on NATS.
  { name: 'fleet', rank: 8.7, path: '^src/fleet/', role: 'NATS fleet: membership, dispatch, shared inventory, service discovery' },
  // What the outside world talks to.
  { name: 'api', rank: 9, path: '^src/api/', role: 'REST API (express)' },
  // The HTTP server hosts /metrics, the admin endpoints and the API router, with the API's
  // error shape and token scopes: above api.
  { name: 'status', rank: 9.1, path: '^src/status/', role: 'the status page at / (server-rendered HTML)' },
  { name: 'http', rank: 9.2, path: '^src/http/', role: 'the HTTP server: /metrics, /-/ endpoints, JSON errors, the API mounted' },
  // The subsystems the app composes as services (inventories, API, host checks, and each new
  // subsystem): one line each in src/subsystems/index.ts.
  { name: 'subsystems', rank: 9.5, path: '^src/subsystems/', role: 'the registry of subsystem services and their context' },
  // Composition root: wires everything; main.ts alone has process-level side effects.
  { name: 'app', rank: 10, path: '^src/app\\.ts$', role: 'createApp(config, deps): wires all layers' },
  { name: 'main', rank: 11, path: '^src/main\\.ts$', role: 'argv, signals, exit' },
];

/**
 * Packages with one home folder in src/ (the others are restricted per folder in eslint.config.js):
 * databases behind the flow store, NATS behind the fleet, the browser in tests only.
 */
const PACKAGE_HOMES = [
  { packages: ['better-sqlite3', 'pg'], home: '^src/flows/store/' },
  { packages: ['@nats-io'], home: '^src/fleet/' },
  { packages: ['playwright-core'], home: '^$' },
];

const layerRules = LAYERS.map((layer) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.name} (${layer.role}) may import only its own folder and layers ranked below ${layer.rank}: ${
    LAYERS.filter((l) => l.rank < layer.rank).map((l) => l.name).join(', ') || 'none'
  }`,
  severity: 'error',
  from: { path: layer.path },
  to: {
    path: '^src/',
    pathNot: [layer.path, ...LAYERS.filter((l) => l.rank < layer.rank).map((l) => l.path)],
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'import cycles make initialisation order fragile and layers meaningless',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'layer-unassigned',
      comment: 'every file under src/ belongs to a layer: add its folder to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map((l) => l.path) },
      to: {},
    },
    {
      name: 'layer-unassigned-target',
      comment: 'every file under src/ belongs to a layer: add its folder to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: LAYERS.map((l) => l.path) },
    },
    ...layerRules,
    ...PACKAGE_HOMES.map(({ packages, home }) => ({
      name: `package-home-${packages[0].replace(/[^a-z]/g, '')}`,
      comment: `${packages.join(', ')} may be imported only under ${home}`,
      severity: 'error',
      from: { path: '^src/', pathNot: home },
      to: { path: `node_modules/(${packages.join('|')})/` },
    })),
    {
      name: 'not-to-unresolvable',
      comment: 'an import that resolves to nothing is a typo or a missing dependency',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // type-only imports are dependencies too
    tsPreCompilationDeps: true,
    // resolves the `.js` specifiers of our ESM TypeScript to the `.ts` files
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.json'],
    },
  },
};
