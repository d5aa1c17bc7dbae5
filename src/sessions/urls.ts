/**
 * The URL and options frame of the session stores: how a store URL and a backend's options are read, in one place,
 * so that every backend reads them alike and a backend file says nothing about URL syntax.
 *
 * - `createSessionStore(url)` (`./index.ts`) splits the scheme with {@link urlScheme} and hands the URL to the
 *   scheme's row, which reads it with {@link parsePathUrl} (`file://`, `sqlite://`: a path, `?fsync=` by
 *   {@link parseFsync}) or {@link parseStoreUrl} (`redis://`, `postgres://`, `s3://`: WHATWG URL syntax).
 * - A network backend given a connection URL takes its own store option out of the query string (`?table=`,
 *   `?prefix=`) with {@link splitConnectionUrl} before the URL reaches its driver, and names the URL in errors only
 *   with the password redacted.
 * - A required option of a backend's constructor is checked with {@link requireOption}.
 * Malformed URLs are a `ConfigError` naming the URL (password redacted); a missing required option is a
 * `ValidationError` naming the option.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, ValidationError } from '../core/errors.js';

/** When appended data reaches stable storage: `'always'` before `append` resolves, `'never'` when the OS decides. */
export type FsyncPolicy = 'always' | 'never';

/** The scheme of `url`, lower-cased and without `://`; undefined when `url` is not a string with a `://`. */
export function urlScheme(url: unknown): string | undefined {
  if (typeof url !== 'string' || !url.includes('://')) return undefined;
  return url.slice(0, url.indexOf('://')).toLowerCase();
}

/**
 * `url` parsed as a WHATWG URL.
 * @throws ConfigError naming the URL (password redacted) when it does not parse.
 */
export function parseStoreUrl(url: string): URL {
  try {
    return new URL(url);
  } catch (error) {
    throw new ConfigError(`invalid session store URL ${JSON.stringify(redactUrlText(url))}`, {
      cause: error,
    });
  }
}

/**
 * The path and query of a path URL: `scheme:///absolute`, `scheme://./relative`, `scheme://~/home`,
 * `scheme://relative` or `sqlite://:memory:`. Percent-escapes are decoded; `~` is the home directory.
 * @throws ConfigError when the URL names no path.
 */
export function parsePathUrl(url: string): { path: string; params: URLSearchParams } {
  const rest = url.slice(url.indexOf('://') + 3);
  const queryAt = rest.indexOf('?');
  const rawPath = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const params = new URLSearchParams(queryAt === -1 ? '' : rest.slice(queryAt + 1));
  if (rawPath === '') throw new ConfigError(`session store URL ${JSON.stringify(url)} names no path`);
  if (rawPath === ':memory:') return { path: rawPath, params };
  if (rawPath === '~' || rawPath.startsWith('~/')) {
    return { path: join(homedir(), decodeURIComponent(rawPath.slice(1))), params };
  }
  const path = rawPath.startsWith('/') ? fileURLToPath(`file://${rawPath}`) : decodeURIComponent(rawPath);
  return { path, params };
}

/**
 * The `?fsync=` parameter of a path URL. @default 'always'
 * @throws ConfigError for a value other than `always` or `never`.
 */
export function parseFsync(params: URLSearchParams, url: string): FsyncPolicy {
  const value = params.get('fsync') ?? 'always';
  if (value !== 'always' && value !== 'never') {
    throw new ConfigError(`invalid ?fsync=${value} in ${JSON.stringify(url)}: use always or never`);
  }
  return value;
}

/** A connection URL with a store option taken out of its query string; see {@link splitConnectionUrl}. */
export interface ConnectionUrl {
  /** The URL for the driver, without the parameter (re-serialized by `URL`). */
  url: string;
  /** The parameter's value, when the URL had it. */
  value: string | undefined;
  /** `url` with its password, if any, replaced by `***`: how errors name it. */
  redacted: string;
}

/**
 * Reads the query parameter `name` of a network store's connection URL and returns the URL without it.
 * @throws ConfigError naming the URL (password redacted) when it does not parse.
 */
export function splitConnectionUrl(url: string, name: string): ConnectionUrl {
  const parsed = parseStoreUrl(url);
  const value = parsed.searchParams.get(name);
  parsed.searchParams.delete(name);
  const withoutParam = parsed.toString();
  if (parsed.password !== '') parsed.password = '***';
  return { url: withoutParam, value: value ?? undefined, redacted: parsed.toString() };
}

/**
 * `url` with its password replaced by `***`, by text alone: for strings `URL` cannot parse (malformed input, a
 * `redis+cluster://` host list).
 */
export function redactUrlText(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}

/**
 * `value` when it is a non-empty string: the check of a backend's required option (`root`, `path`, `bucket`).
 * @throws ValidationError naming `option`, with `need` (what the store needs, with an example URL) as its message.
 */
export function requireOption(value: unknown, option: string, need: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(option, need);
  return value;
}
