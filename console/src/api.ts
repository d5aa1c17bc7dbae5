/**
 * The console's REST client: every call goes to mneme's own HTTP API with the signed-in key
 * (`Authorization: Bearer <key>`), so the console can do exactly what that key can do over HTTP, nothing more.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class Api {
  constructor(private readonly key: string) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.raw(method, path, body);
    const text = await response.text();
    return (text === '' ? {} : JSON.parse(text)) as T;
  }

  async raw(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.key}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(path, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!response.ok) throw await errorOf(response);
    return response;
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const parsed = (await response.json()) as { error?: { code?: string; message?: string; field?: string } };
    const error = parsed.error ?? {};
    return new ApiError(
      response.status,
      error.code ?? 'error',
      error.message ?? `HTTP ${response.status}`,
      error.field,
    );
  } catch {
    return new ApiError(response.status, 'error', `HTTP ${response.status}`);
  }
}

/** Exchanges a one-time login token (from `mneme console`) for a session key. */
export async function redeemLoginToken(
  token: string,
): Promise<{ key: string; allApps: boolean; appId?: string }> {
  const response = await fetch('/console/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as { key: string; allApps: boolean; appId?: string };
}
