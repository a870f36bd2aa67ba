/**
 * What the frame decoder reports about one captured frame (re-exported by probe-frame.ts).
 * A frame's `kind` says which probe type it belongs to and what it is to that type:
 * kind = probe type number << 2 | role (frameKind()), the number being the type's position in
 * the probe registry (src/probes/index.ts). kind 0 (NONE) is no probe frame at all.
 */

/** What a frame is to its probe type. */
export const FrameRole = {
  NONE: 0,
  /** one of our probes going out (its kernel timestamp is the send time) */
  REQUEST: 1,
  /** the target's answer to one of our probes */
  REPLY: 2,
  /** an ICMP/ICMPv6 error quoting one of our probes */
  ERROR: 3,
} as const;

/** Probe types a kind can tell apart (kinds are bytes). */
export const MAX_PROBE_TYPES = 64;

/** The kind of a frame of probe type `probe` playing `role`. */
export function frameKind(probe: number, role: number): number {
  return (probe << 2) | role;
}

/**
 * One decoded frame. "Local" means OUR side of the probe, "remote" the target's. Every type
 * documents its own use of id, seq, k1, k2 and aux (see its FrameCodec); ICMP errors are
 * decoded the same way for every type:
 *
 * | role   | k1 (local << 16 \| remote) | k2                      | aux               | proto           | peerHash of        | originHash of   |
 * | ------ | -------------------------- | ----------------------- | ----------------- | --------------- | ------------------ | --------------- |
 * | ERROR  | quoted sport, quoted dport | the type's quotedKey()  | type << 8 \| code | quoted protocol | QUOTED destination | outer IP source |
 *
 * For requests and replies, originHash equals peerHash (the probed address: the destination of
 * a request, the source of a reply). id and seq are 0 unless the type uses them; an ERROR
 * quoting an echo request carries the quoted echo identifier and sequence number in them.
 * originOffset is where the origin address (4 or 16 bytes) lies in the decoded buffer.
 */
export interface DecodedFrame {
  kind: number;
  family: 4 | 6;
  id: number;
  seq: number;
  peerHash: number;
  k1: number;
  k2: number;
  aux: number;
  proto: number;
  originHash: number;
  originOffset: number;
}

/** A DecodedFrame to decode into (kind NONE, all zero). */
export function newDecodedFrame(): DecodedFrame {
  return { kind: FrameRole.NONE, family: 4, id: 0, seq: 0, peerHash: 0, k1: 0, k2: 0, aux: 0, proto: 0, originHash: 0, originOffset: 0 };
}

/** Where the upper-layer header of a frame sits and how far its bytes go. */
export interface L4Span {
  /** offset of the TCP/UDP/ICMP header */
  l4: number;
  /** end of the upper-layer bytes as captured: min(declared IP end, capture end) */
  capturedEnd: number;
  /** upper-layer length declared by the IP header */
  declaredLength: number;
  srcOffset: number;
  dstOffset: number;
}
