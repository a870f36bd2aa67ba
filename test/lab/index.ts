// The integration-test lab: import everything from here.
export { createLab, LAB } from './lab.js';
export type { DelayedEchoOptions, ExecOptions, FetchResult, Lab, LabProcess, LabSide, Truth, TruthStats } from './lab.js';
export { listNamespaces, reapStaleLabs, STATE_DIR } from './lab-registry.js';
export { findOnPath, LAB_TOOLS, PING, PROMTOOL, requireRoot, requireTools, TCPDUMP } from './require-tools.js';
export type { ToolRequirement } from './require-tools.js';
export { readPcap, writePcap } from './pcap-file.js';
export type { PcapFile, PcapPacket } from './pcap-file.js';
export { echoKey, echoProbes, echoTruth, summarizeEcho } from './echo-truth.js';
export type { EchoProbe, EchoSummary, EchoTruthEntry, TruthPacket } from './echo-truth.js';
export { buildIpv4Echo, internetChecksum, ipFromFrame, parseEcho, parseIp } from './ip-packet.js';
export { echoRequestHeaders } from './ip-header.js';
export type { EchoRequestHeader } from './ip-header.js';
export { percentile } from './percentile.js';
export { find, findAll, parseExposition, parseTypes, sum } from './exposition.js';
export type { Sample } from './exposition.js';
export { REPO_ROOT, startWireprobe, WIREPROBE_MAIN } from './wireprobe.js';
export { PACKAGED_MALLOC_ENV, PACKAGED_NODE_FLAGS, packagedEnv } from './packaged-runtime.js';
export type { WireprobeHandle, WireprobeOptions } from './wireprobe.js';
export { netprobifyConfig, DEFAULT_GLOBAL, DEFAULT_PORT } from './config.js';
export type { GlobalSection, TargetSpec } from './config.js';
export { deadIpv4, deadIpv6, labIpv4Targets, labIpv6Targets, targetName } from './targets.js';
export { sleep, waitFor } from './wait-for.js';
export { procStatFields, runCommand, runChecked } from './processes.js';
export type { RunResult } from './processes.js';
export {
  decodeL4,
  decodeL4All,
  ICMP4_ADMIN_PROHIBITED,
  ICMP4_PORT_UNREACH,
  ICMP4_UNREACH,
  ICMP6_ADMIN_PROHIBITED,
  ICMP6_PORT_UNREACH,
  ICMP6_UNREACH,
  isIcmpError,
  isRst,
  isSyn,
  isSynAck,
  isTcp,
  isUdp,
  pairSyns,
  pairUdp,
  sortedRttSeconds,
  TCP_FLAG,
} from './l4-truth.js';
export type { IcmpError, L4Packet, QuotedPacket, SynProbe, TcpSegment, UdpDatagram, UdpProbeTruth } from './l4-truth.js';
export { msToNs, quietScrapes, scrapeUntil } from './scrape-log.js';
export { PROMETHEUS, prometheusConfig, startPrometheus } from './prometheus.js';
export { formatPromDuration, parsePromDuration, scaleRuleDurations } from './rule-scale.js';
export type { ScaledRules } from './rule-scale.js';
export type { PromAlert, PrometheusHandle, PrometheusOptions, PromQueryResult, PromSeries, PromTarget } from './prometheus.js';
export type { TimedScrape } from './scrape-log.js';
