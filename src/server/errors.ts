/**
 * The HTTP edge of mneme's error hierarchy: every failure a route raises becomes a status code and one JSON body,
 * `{ "error": { "code", "message", "field"? } }`, where `field` names the offending input (dotted path).
 *
 * | error | status |
 * |---|---|
 * | malformed JSON, non-object body ({@link HttpError}) | 400 |
 * | {@link AuthError}: missing / unknown / revoked key | 401 |
 * | {@link HttpError} `forbidden`: another app named, admin-only route | 403 |
 * | {@link NotFoundError}: missing id, or an id of another app | 404 |
 * | body over the size limit ({@link HttpError}) | 413 |
 * | {@link ValidationError}: wrong type, text too long, batch too large | 422 |
 * | {@link HttpError} `not_implemented`: a Mem0 platform feature mneme does not have (webhooks, ...) | 501 |
 * | transient store / embedder / LLM failure (`retryable`) | 503 with `Retry-After` |
 * | embedder or LLM failed for good | 502 |
 * | store failure, server misconfiguration, a bug | 500 (details in the server log, never in the body) |
 *
 * Bad input never yields a 5xx: input is validated before anything is written.
 */
import {
  AuthError,
  ConfigError,
  EmbedderError,
  LLMError,
  MnemeError,
  NotFoundError,
  StoreError,
  ValidationError,
} from '../core/errors.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    /** Stable machine-readable code, e.g. `validation_failed`, `not_found`, `unauthorized`. */
    code: string;
    /** What failed and what to do. */
    message: string;
    /** The offending input as a dotted path (`messages[0].content`, `filters.app_id`, `body`), when known. */
    field?: string;
  };
}

/** An error that already knows its HTTP status (raised by the server's own checks). */
export class HttpError extends MnemeError {
  readonly status: 400 | 401 | 403 | 404 | 413 | 415 | 422 | 501;
  readonly field: string | undefined;

  constructor(
    status: HttpError['status'],
    code: string,
    message: string,
    options: { field?: string; cause?: unknown } = {},
  ) {
    super(options.field ? `${options.field}: ${message}` : message, { code, cause: options.cause });
    this.name = 'HttpError';
    this.status = status;
    this.field = options.field;
  }
}

/** A 403: the request names a tenant (app) or an operation its key does not grant. */
export function forbidden(field: string, message: string): HttpError {
  return new HttpError(403, 'forbidden', message, { field });
}

/** A 501: a Mem0 platform feature mneme does not provide; the message says what to use instead, if anything. */
export function notImplemented(feature: string, instead: string): HttpError {
  return new HttpError(
    501,
    'not_implemented',
    `${feature} is a Mem0 platform feature mneme does not provide; ${instead}`,
  );
}

/** A translated error: status, body, and whether the server should log it as its own failure. */
export interface ErrorResponse {
  status: 400 | 401 | 403 | 404 | 413 | 415 | 422 | 500 | 501 | 502 | 503;
  body: ErrorBody;
  /** Seconds, for `Retry-After` on 503. */
  retryAfter?: number;
  /** True for 5xx: the failure is the server's (or a dependency's), so it is logged with its cause. */
  serverFault: boolean;
}

/** Maps any thrown value to the response the client sees. */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof HttpError) {
    return clientError(error.status, error.code, error.message, error.field);
  }
  if (error instanceof ValidationError) return clientError(422, error.code, error.message, error.field);
  if (error instanceof NotFoundError) return clientError(404, error.code, error.message, undefined);
  if (error instanceof AuthError) return clientError(401, error.code, error.message, undefined);
  if (error instanceof StoreError || error instanceof EmbedderError || error instanceof LLMError) {
    if (error.retryable) {
      return {
        status: 503,
        body: {
          error: { code: error.code, message: `${describeKind(error)} is temporarily unavailable; retry` },
        },
        retryAfter: 1,
        serverFault: true,
      };
    }
    const status = error instanceof StoreError ? 500 : 502;
    return {
      status,
      body: { error: { code: error.code, message: `${describeKind(error)} failed; see the server log` } },
      serverFault: true,
    };
  }
  if (error instanceof ConfigError) {
    return {
      status: 500,
      body: { error: { code: error.code, message: 'the server is misconfigured; see the server log' } },
      serverFault: true,
    };
  }
  return {
    status: 500,
    body: { error: { code: 'internal_error', message: 'internal error; see the server log' } },
    serverFault: true,
  };
}

function clientError(
  status: ErrorResponse['status'],
  code: string,
  message: string,
  field: string | undefined,
): ErrorResponse {
  return { status, body: { error: { code, message, ...(field ? { field } : {}) } }, serverFault: false };
}

function describeKind(error: StoreError | EmbedderError | LLMError): string {
  if (error instanceof StoreError) return 'the memory store';
  if (error instanceof EmbedderError) return 'the embedder';
  return 'the language model';
}
