// Errors as AWS sends them: an exception name (the JSON 1.1 `__type`), a message and an HTTP status.
export class SandboxError extends Error {
  readonly status: number
  readonly type: string

  constructor(type: string, message: string, status = 400) {
    super(message)
    this.name = type
    this.type = type
    this.status = status
  }
}

export const err = (type: string, message: string, status = 400): SandboxError => new SandboxError(type, message, status)

/** AWS's model-validation message: `1 validation error detected: Value 'x' at 'member' failed to satisfy constraint: ...`. */
export function validationError(member: string, value: unknown, constraint: string): SandboxError {
  const shown = value === null || value === undefined ? 'null' : `'${typeof value === 'object' ? JSON.stringify(value) : String(value)}'`
  return new SandboxError('ValidationException', `1 validation error detected: Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`)
}

export const internalError = (): SandboxError =>
  new SandboxError('KMSInternalException', 'The request processing has failed because of an unknown error, exception or failure.', 500)
