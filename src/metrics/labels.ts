/** The label names of wireprobe's per-target families (netprobify's, plus wireprobe's own). */

/** netprobify label sets */
export const T3 = ['probe_name', 'destination', 'address_family'] as const;
export const T5 = ['probe_name', 'destination', 'address_family', 'state', 'group'] as const;
export const T6 = [...T5, 'percentile'] as const;
/** per-host series of is_subnet targets with per_host_metrics (wireprobe) */
export const TP = [...T5, 'host'] as const;
/** app_time_ooo_total */
export const T4 = ['probe_name', 'destination', 'address_family', 'group'] as const;
/** threshold */
export const TH = ['probe_name', 'destination', 'address_family', 'type', 'state', 'alert_level', 'group'] as const;

/** the labels of one (target, group) */
export type TaskLabelNames = (typeof T5)[number];
