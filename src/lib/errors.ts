// Typed errors with a stable code, the AWS cause and a "Try this:" remedy.
// Every error a user can meet goes through here so that the message, the exit code and the
// JSON shape are the same in every command.

/** Exit codes: documented in the README, stable across releases. */
export const ExitCode = {
  OK: 0,
  /** The operation failed (an AWS error, a runtime failure, lint errors, a diff with --fail-on-change). */
  FAILED: 1,
  /** Bad input or a refused unsafe action: nothing was sent to AWS. */
  USAGE: 2,
  /** A bulk action where some items succeeded and some failed. */
  PARTIAL: 3,
  /** The operator declined at a confirmation prompt. */
  DECLINED: 4,
  /** Interrupted with Ctrl-C (SIGINT). */
  INTERRUPTED: 130,
} as const

export type ErrorCode =
  | 'ACCESS_DENIED'
  | 'ALREADY_EXISTS'
  | 'AUTHENTICATION_FAILED'
  | 'BAD_SIGNATURE'
  | 'CONTEXT_MISMATCH'
  | 'CONFIRMATION_REQUIRED'
  | 'DECLINED'
  | 'DISABLED'
  | 'EXPIRED_TOKEN'
  | 'FAILED'
  | 'INTERRUPTED'
  | 'INVALID_CIPHERTEXT'
  | 'INVALID_STATE'
  | 'LIMIT_EXCEEDED'
  | 'MALFORMED_POLICY'
  | 'NETWORK'
  | 'NO_CREDENTIALS'
  | 'NO_MATCHING_KEY'
  | 'NO_REGION'
  | 'NOT_A_MESSAGE'
  | 'NOT_FOUND'
  | 'PARTIAL_FAILURE'
  | 'REFUSED'
  | 'THROTTLED'
  | 'TRUNCATED'
  | 'UNSUPPORTED'
  | 'USAGE'
  | 'AWS_ERROR'

export interface KmsctlErrorOptions {
  /** The AWS error name (e.g. NotFoundException) when the cause is an AWS error. */
  awsCode?: string
  /** The AWS error message, verbatim. */
  awsMessage?: string
  cause?: unknown
  /** Extra structured data for --json output. */
  details?: Record<string, unknown>
  exitCode?: number
  /** One line telling the user what to do about it. */
  remedy?: string
}

export class KmsctlError extends Error {
  readonly awsCode?: string
  readonly awsMessage?: string
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>
  readonly exitCode: number
  readonly remedy?: string

  constructor(code: ErrorCode, message: string, options: KmsctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'KmsctlError'
    this.code = code
    this.exitCode = options.exitCode ?? defaultExitCode(code)
    this.remedy = options.remedy
    this.awsCode = options.awsCode
    this.awsMessage = options.awsMessage
    this.details = options.details
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.remedy ? {remedy: this.remedy} : {}),
      ...(this.awsCode ? {awsCode: this.awsCode} : {}),
      ...(this.awsMessage ? {awsMessage: this.awsMessage} : {}),
      ...(this.details ? {details: this.details} : {}),
      exitCode: this.exitCode,
    }
  }
}

function defaultExitCode(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'CONFIRMATION_REQUIRED':
    case 'REFUSED':
    case 'NO_REGION': {
      return ExitCode.USAGE
    }

    case 'PARTIAL_FAILURE': {
      return ExitCode.PARTIAL
    }

    case 'DECLINED': {
      return ExitCode.DECLINED
    }

    case 'INTERRUPTED': {
      return ExitCode.INTERRUPTED
    }

    default: {
      return ExitCode.FAILED
    }
  }
}

/** Bad input: a one-line error naming the fix, exit 2, nothing sent. */
/**
 * Errors that concern the whole run (credentials, region), not one key or one call. A network error
 * is one call's: a dropped connection that outlasted the client's retries fails that key only (when
 * the network is down, every key reports it).
 */
const RUN_WIDE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['EXPIRED_TOKEN', 'NO_CREDENTIALS', 'NO_REGION'])

/** True for an error that stops the whole run: no other key or call would fare better. */
export function isRunWide(error: KmsctlError): boolean {
  return RUN_WIDE_CODES.has(error.code)
}

export function usageError(message: string, remedy?: string, details?: Record<string, unknown>): KmsctlError {
  return new KmsctlError('USAGE', message, {details, remedy})
}

/** A safety check refused the action (exit 2, nothing sent). */
export function refusal(message: string, remedy?: string, details?: Record<string, unknown>): KmsctlError {
  return new KmsctlError('REFUSED', message, {details, remedy})
}

/** What was being attempted when an AWS call failed, to make the message specific. */
export interface AwsErrorContext {
  /** The API operation, e.g. "DisableKey". */
  operation?: string
  /** The key as the user wrote it, or its ID. */
  key?: string
  /** What was looked up, for NotFound ("alias", "grant g-123"). */
  lookedUp?: string
  /** The profile in use, for credential remedies. */
  profile?: string
}

interface AwsLikeError {
  $metadata?: {httpStatusCode?: number}
  $retryable?: unknown
  code?: string
  Code?: string
  message?: string
  name?: string
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'TimeoutError',
])

/** Extracts the key state from a KMSInvalidStateException message ("... is pending deletion", "... is Disabled"). */
export function stateFromMessage(message: string | undefined): string | undefined {
  if (!message) return undefined
  const m = /\b(Enabled|Disabled|PendingDeletion|PendingImport|PendingReplicaDeletion|Unavailable|Creating|Updating)\b/.exec(message)
  if (m) return m[1]
  if (/pending deletion/i.test(message)) return 'PendingDeletion'
  if (/pending import/i.test(message)) return 'PendingImport'
  if (/disabled/i.test(message)) return 'Disabled'
  return undefined
}

/** AWS's answer that the caller is over a request quota (what is left once the client's retries are spent). */
export function isThrottling(error: unknown): boolean {
  const e = (error ?? {}) as AwsLikeError
  const name = e.name ?? e.Code ?? e.code
  return name === 'ThrottlingException' || name === 'TooManyRequestsException' || name === 'Throttling' || e.$metadata?.httpStatusCode === 429
}

/**
 * Maps an error thrown by the AWS SDK (or the credential chain, or the network) to a KmsctlError.
 * A KmsctlError passes through unchanged.
 */
export function fromAwsError(error: unknown, ctx: AwsErrorContext = {}): KmsctlError {
  if (error instanceof KmsctlError) return error
  const e = (error ?? {}) as AwsLikeError
  const name = e.name ?? e.Code ?? e.code ?? 'Error'
  const message = e.message ?? String(error)
  const op = ctx.operation ? `kms:${ctx.operation}` : 'the request'
  const key = ctx.key ? ` on ${ctx.key}` : ''
  const base = {awsCode: name, awsMessage: message, cause: error}
  const profileFlag = ctx.profile ? ` --profile ${ctx.profile}` : ''

  if (name === 'CredentialsProviderError' || /Could not load credentials|credential.*not.*found/i.test(message)) {
    return new KmsctlError('NO_CREDENTIALS', 'No AWS credentials found.', {
      ...base,
      remedy: `Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, run "aws configure", or log in with "aws sso login${profileFlag}"; or try kmsctl with --sandbox.`,
    })
  }

  if (
    ['ExpiredToken', 'ExpiredTokenException', 'RequestExpired', 'TokenRefreshRequired'].includes(name) ||
    /token.*(has )?expired|security token included in the request is expired|SSO session.*expired/i.test(message)
  ) {
    return new KmsctlError('EXPIRED_TOKEN', 'Your AWS session token has expired.', {
      ...base,
      remedy: `Refresh your credentials, e.g. "aws sso login${profileFlag}", then run the command again.`,
    })
  }

  if (['UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch'].includes(name)) {
    return new KmsctlError('NO_CREDENTIALS', `AWS rejected your credentials (${name}).`, {
      ...base,
      remedy: 'Check the access key and secret in use (aws sts get-caller-identity), or select another --profile.',
    })
  }

  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return new KmsctlError('ACCESS_DENIED', `Access denied: you are not allowed to call ${op}${key}.`, {
      ...base,
      remedy: `Ask for ${op} in the key policy or your IAM policy (kmsctl policy simulate${ctx.key ? ` ${ctx.key}` : ' KEY'} --principal YOUR_ARN --action ${op === 'the request' ? 'kms:ACTION' : op}).`,
    })
  }

  if (name === 'NotFoundException') {
    const what = ctx.lookedUp ?? (ctx.key ? `key ${ctx.key}` : 'the resource')
    return new KmsctlError('NOT_FOUND', `Not found: ${what} (${op}). ${message}`.trim(), {
      ...base,
      remedy: 'Check the key ID, ARN or alias and the --region (kmsctl key list).',
    })
  }

  if (name === 'KMSInvalidStateException') {
    const state = stateFromMessage(message)
    return new KmsctlError(
      'INVALID_STATE',
      `${ctx.key ? `Key ${ctx.key}` : 'The key'} is ${state ? `in state ${state}` : 'not in a state that allows this'}: ${op} is not allowed.`,
      {
        ...base,
        details: state ? {state} : undefined,
        remedy:
          state === 'PendingDeletion'
            ? 'Cancel the deletion first: kmsctl key cancel-deletion KEY --enable'
            : state === 'Disabled'
              ? 'Enable the key first: kmsctl key enable KEY'
              : 'Check the key state with kmsctl key describe KEY.',
      },
    )
  }

  if (name === 'DisabledException') {
    return new KmsctlError('DISABLED', `${ctx.key ? `Key ${ctx.key}` : 'The key'} is disabled: ${op} is not allowed.`, {
      ...base,
      details: {state: 'Disabled'},
      remedy: 'Enable it with kmsctl key enable KEY, if that is intended.',
    })
  }

  if (name === 'MalformedPolicyDocumentException') {
    return new KmsctlError('MALFORMED_POLICY', `KMS refused the key policy: ${message}`, {
      ...base,
      remedy: 'Check it with kmsctl policy lint FILE.',
    })
  }

  if (name === 'InvalidCiphertextException') {
    return new KmsctlError('INVALID_CIPHERTEXT', `KMS could not decrypt: ${message || 'the ciphertext or encryption context does not match'}`, {
      ...base,
      remedy: 'Pass the same encryption context (--context k=v) that was used to encrypt.',
    })
  }

  if (name === 'AlreadyExistsException') {
    return new KmsctlError('ALREADY_EXISTS', `Already exists: ${message}`, {...base, remedy: 'Choose another name, or update the existing one.'})
  }

  if (name === 'LimitExceededException') {
    return new KmsctlError('LIMIT_EXCEEDED', `A KMS limit was exceeded: ${message}`, {...base, remedy: 'See the KMS quotas for this resource.'})
  }

  if (isThrottling(error)) {
    return new KmsctlError('THROTTLED', `AWS throttled ${op}${key} and retries did not get through.`, {
      ...base,
      remedy: 'Retry later, lower --rate or --concurrency, or raise --max-attempts.',
    })
  }

  const sysCode = (error as {code?: string})?.code
  if ((sysCode && NETWORK_CODES.has(sysCode)) || NETWORK_CODES.has(name) || /socket hang up|connect ECONNREFUSED|getaddrinfo/i.test(message)) {
    return new KmsctlError('NETWORK', `Could not reach the AWS endpoint: ${message}`, {
      ...base,
      awsCode: sysCode ?? name,
      remedy: 'Check your network, proxy and --endpoint-url / --region.',
    })
  }

  if (['ValidationException', 'InvalidArnException', 'InvalidAliasNameException', 'InvalidGrantIdException', 'InvalidGrantTokenException', 'InvalidMarkerException', 'InvalidKeyUsageException', 'UnsupportedOperationException', 'TagException', 'InvalidLookupAttributesException', 'InvalidTimeRangeException', 'InvalidNextTokenException'].includes(name)) {
    return new KmsctlError('AWS_ERROR', `AWS rejected ${op}${key}: ${name}: ${message}`, {
      ...base,
      remedy: 'Check the values given to the command (see --help).',
    })
  }

  return new KmsctlError('AWS_ERROR', `${op === 'the request' ? 'The request' : op}${key} failed: ${name}: ${message}`, base)
}

/** Reads a report can do without: what failed, by operation, and a way to run each read. */
export interface BestEffort {
  /** Why each failed read failed, by operation ("not allowed: kms:ListGrants"). */
  unavailable: Record<string, string>
  /** Runs a read; when it fails, records why under the operation and returns the fallback. */
  soft: <T>(operation: string, read: () => Promise<T>, fallback: T) => Promise<T>
}

/** Best-effort reads about one key, for reports that show what they could read and say what they could not. */
export function bestEffort(key: string): BestEffort {
  const unavailable: Record<string, string> = {}
  const soft = async <T>(operation: string, read: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await read()
    } catch (error) {
      const e = fromAwsError(error, {key, operation})
      unavailable[operation] = e.code === 'ACCESS_DENIED' ? `not allowed: kms:${operation}` : e.message
      return fallback
    }
  }

  return {soft, unavailable}
}
