/**
 * mneme's error hierarchy. Every error thrown by the library is a {@link MnemeError} with a stable `code`,
 * an explicit `name`, and (where it wraps another failure) a `cause`. Messages say what failed and what to do.
 *
 * Edges translate these and only these: the HTTP server maps them to status codes, the MCP server to
 * `isError` results, the CLI to exit codes (see `exitCodeFor`).
 */
export class MnemeError extends Error {
  /** Stable machine-readable code, e.g. `validation_failed`. */
  readonly code: string;

  constructor(message: string, options: { code: string; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MnemeError';
    this.code = options.code;
  }
}

/** A configuration option is missing, malformed, or inconsistent with stored data. */
export class ConfigError extends MnemeError {
  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'config_invalid', cause: options.cause });
    this.name = 'ConfigError';
  }
}

/** Caller input was rejected. `field` names the offending input (dotted path), so edges can report it. */
export class ValidationError extends MnemeError {
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super(`${field}: ${message}`, { code: 'validation_failed', cause: options.cause });
    this.name = 'ValidationError';
    this.field = field;
  }
}

/** The addressed memory does not exist, or exists outside the caller's scope (the two are indistinguishable). */
export class NotFoundError extends MnemeError {
  constructor(message: string) {
    super(message, { code: 'not_found' });
    this.name = 'NotFoundError';
  }
}

/** The storage backend failed. `retryable` is true for transient conditions (busy, connection reset). */
export class StoreError extends MnemeError {
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean; code?: string } = {}) {
    super(message, { code: options.code ?? 'store_failed', cause: options.cause });
    this.name = 'StoreError';
    this.retryable = options.retryable ?? false;
  }
}

/** The store was written by a different embedder (id or dimension) than the one configured. */
export class EmbedderMismatchError extends ConfigError {
  readonly stored: { id: string; dimension: number };
  readonly configured: { id: string; dimension: number };

  constructor(stored: { id: string; dimension: number }, configured: { id: string; dimension: number }) {
    super(
      `embedder mismatch: this store was written by "${stored.id}" (${stored.dimension} dimensions) but the ` +
        `configured embedder is "${configured.id}" (${configured.dimension} dimensions). Configure the same ` +
        'embedder (option `embedder` / env MNEME_EMBEDDER), or use a new store (option `store` / env MNEME_STORE) ' +
        'and re-import your memories with `mneme export` + `mneme import`.',
      { code: 'embedder_mismatch' },
    );
    this.name = 'EmbedderMismatchError';
    this.stored = stored;
    this.configured = configured;
  }
}

/** The embedder failed to produce vectors. */
export class EmbedderError extends MnemeError {
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, { code: 'embedder_failed', cause: options.cause });
    this.name = 'EmbedderError';
    this.retryable = options.retryable ?? false;
  }
}

/** The language model call failed or returned an unusable reply. `rawText` holds the reply when there was one. */
export class LLMError extends MnemeError {
  readonly retryable: boolean;
  readonly statusCode: number | undefined;
  readonly rawText: string | undefined;

  constructor(
    message: string,
    options: {
      cause?: unknown;
      retryable?: boolean;
      statusCode?: number;
      rawText?: string;
      code?: string;
    } = {},
  ) {
    super(message, { code: options.code ?? 'llm_failed', cause: options.cause });
    this.name = 'LLMError';
    this.retryable = options.retryable ?? false;
    this.statusCode = options.statusCode;
    this.rawText = options.rawText;
  }
}

/** Missing or invalid credentials (server API keys). */
export class AuthError extends MnemeError {
  constructor(message: string) {
    super(message, { code: 'unauthorized' });
    this.name = 'AuthError';
  }
}

/** An optional peer dependency is needed but not installed. */
export class MissingDependencyError extends ConfigError {
  constructor(packageName: string, feature: string, cause?: unknown) {
    super(`${feature} needs the package "${packageName}": install it with \`npm install ${packageName}\``, {
      code: 'missing_dependency',
      cause,
    });
    this.name = 'MissingDependencyError';
  }
}

/** True when retrying the same operation later may succeed. */
export function isRetryable(error: unknown): boolean {
  return (
    (error instanceof StoreError || error instanceof EmbedderError || error instanceof LLMError) &&
    error.retryable
  );
}
