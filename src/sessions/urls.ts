/**
 * Connection URLs of the network session stores: a store option carried in the query string (`?table=`,
 * `?prefix=`) is read and removed before the URL reaches the driver, and passwords stay out of error messages.
 */

/**
 * Reads the query parameter `name` of `url` and returns the URL without it (re-serialized by `URL`).
 * @throws TypeError when `url` is not a valid URL.
 */
export function takeUrlParam(url: string, name: string): { url: string; value: string | undefined } {
  const parsed = new URL(url);
  const value = parsed.searchParams.get(name);
  parsed.searchParams.delete(name);
  return { url: parsed.toString(), value: value ?? undefined };
}

/** `url` with its password, if any, replaced by `***`, for error messages. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

/**
 * `url` with its password replaced by `***`, by text alone: for strings `URL` cannot parse (malformed input, a
 * `redis+cluster://` host list).
 */
export function redactUrlText(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
