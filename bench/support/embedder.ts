/**
 * The embedder the benchmarks use: a real one from mneme's registry (default `local`, the bundled Universal
 * Sentence Encoder Lite), wrapped in a {@link CachingEmbedder} so each text is embedded once per run.
 */
import { createEmbedder } from '../../src/embedders/registry.js';
import { CachingEmbedder } from './caching-embedder.js';

/** Creates the shared caching embedder for `spec` (`local` by default). */
export async function createBenchEmbedder(options: {
  spec?: string;
  cacheFile?: string;
}): Promise<CachingEmbedder> {
  const spec = options.spec ?? 'local';
  const inner = await createEmbedder(spec);
  // The local model ignores `purpose`; sharing one vector per text keeps every system on identical vectors.
  const symmetric = spec === 'local' || spec.startsWith('local:');
  return new CachingEmbedder(inner, {
    symmetric,
    ...(options.cacheFile ? { cacheFile: options.cacheFile } : {}),
  });
}
