// Packet mark bits the policy chains use to talk to the endpoint chains, as in felix: a policy
// chain cannot ACCEPT by itself (the endpoint chain still has to see the verdict and the ingress
// side still has to run), so it sets a bit and RETURNs. The bits come from Calico's default mark
// mask 0xffff0000, lowest first, so they never collide with kube-proxy's 0x4000/0x8000.

export const MARK_ACCEPT = 0x10000;
export const MARK_PASS = 0x20000;
/** Scratch bit for rules whose match is an OR of several iptables matches (see rule.ts). */
export const MARK_SCRATCH = 0x40000;
export const MARK_ALL = MARK_ACCEPT | MARK_PASS | MARK_SCRATCH;

export function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

/** `-m mark --mark 0x10000/0x10000`: the bit is set. */
export function markIsSet(bit: number): string {
  return `-m mark --mark ${hex(bit)}/${hex(bit)}`;
}

/** `-m mark --mark 0x0/0x20000`: the bit is clear. */
export function markIsClear(bit: number): string {
  return `-m mark --mark 0x0/${hex(bit)}`;
}

export function setMark(bit: number): string {
  return `-j MARK --set-xmark ${hex(bit)}/${hex(bit)}`;
}

export function clearMarks(bits: number): string {
  return `-j MARK --set-xmark 0x0/${hex(bits)}`;
}
