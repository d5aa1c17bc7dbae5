/**
 * Deterministic, L2-normalised test vectors: seeded pseudo-random unit vectors, and vectors with an exact cosine
 * similarity to a query (for dense-search ordering tests).
 */

/** mulberry32: a tiny seeded PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** Scales a vector to unit length (in place) and returns it. */
export function normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum);
  for (let index = 0; index < vector.length; index += 1) vector[index] = (vector[index] ?? 0) / norm;
  return vector;
}

/** A unit vector of `dimension` components drawn from a PRNG seeded with `seed`. */
export function seededVector(seed: number, dimension: number): Float32Array {
  const random = seededRandom(seed);
  const vector = new Float32Array(dimension);
  for (let index = 0; index < dimension; index += 1) vector[index] = random() * 2 - 1;
  return normalise(vector);
}

/** The unit vector along axis `axis`. */
export function axisVector(axis: number, dimension: number): Float32Array {
  const vector = new Float32Array(dimension);
  vector[axis] = 1;
  return vector;
}

/**
 * A unit vector whose cosine similarity with the unit vector along axis 0 is exactly `cosine` (up to float32
 * rounding): `cosine * e0 + sqrt(1 - cosine²) * e_axis` with `axis` ≥ 1.
 */
export function vectorWithCosine(cosine: number, dimension: number, axis = 1): Float32Array {
  const vector = new Float32Array(dimension);
  vector[0] = cosine;
  vector[axis] = Math.sqrt(Math.max(0, 1 - cosine * cosine));
  return vector;
}

/** Cosine similarity of two vectors. */
export function cosine(left: Float32Array, right: Float32Array): number {
  let dot = 0;
  let leftNorm = 0;
  let rightNorm = 0;
  for (let index = 0; index < left.length; index += 1) {
    const a = left[index] ?? 0;
    const b = right[index] ?? 0;
    dot += a * b;
    leftNorm += a * a;
    rightNorm += b * b;
  }
  return dot / Math.sqrt(leftNorm * rightNorm);
}
