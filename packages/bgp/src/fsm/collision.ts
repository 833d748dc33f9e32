// Connection collision resolution (RFC 4271 §6.8, RFC 6286 §2.3 for equal identifiers).

export type ConnectionDirection = 'outgoing' | 'incoming';

export interface CollisionSides {
  readonly localBgpId: number;
  readonly remoteBgpId: number;
  readonly localAs: number;
  readonly remoteAs: number;
}

/** Which connection survives: the one initiated by the speaker with the higher identifier (then AS). */
export function collisionSurvivor(sides: CollisionSides): ConnectionDirection {
  const { localBgpId, remoteBgpId, localAs, remoteAs } = sides;
  if (localBgpId !== remoteBgpId) return localBgpId > remoteBgpId ? 'outgoing' : 'incoming';
  return localAs > remoteAs ? 'outgoing' : 'incoming';
}
