// Small arrays of 32-bit words that live as long as a decoded attribute set (AS_PATH,
// COMMUNITIES, CLUSTER_LIST), carved out of shared 1 KB slabs: an array of its own costs an
// ArrayBuffer and a backing store, about 250 bytes for a few words, twice per attribute set.
// Slabs are small because one live array keeps its whole slab alive; they are never reused.
// Only attribute values use them (allocated when a section is first decoded, then cached and
// interned), not per-UPDATE data, so a slab fills with arrays of similar lifetimes.

const SLAB_WORDS = 256;
/** Larger arrays get an ArrayBuffer of their own. */
const LARGEST_IN_SLAB = 32;

let slab = new ArrayBuffer(SLAB_WORDS * 4);
let used = 0;

/** A zeroed Uint32Array of `count` words, usually a view into a shared slab. */
export function attributeWords(count: number): Uint32Array {
  if (count > LARGEST_IN_SLAB) return new Uint32Array(count);
  if (used + count > SLAB_WORDS) {
    slab = new ArrayBuffer(SLAB_WORDS * 4);
    used = 0;
  }
  const words = new Uint32Array(slab, used * 4, count);
  used += count;
  return words;
}
