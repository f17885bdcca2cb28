// The wire forms the sandbox's services answer in: AWS JSON 1.1 (KMS, CloudTrail) and the query
// protocol's XML (STS).
import {SandboxError, err} from '../errors.js'
import type {SandboxResponse} from '../request.js'

export const JSON_TYPE = 'application/x-amz-json-1.1'

/** A JSON 1.1 request body: an object, or nothing. */
export function parseJson(body: string): Record<string, any> {
  if (!body || body.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    throw err('SerializationException', 'Start of structure or map found where not expected: the request body is not valid JSON.')
  }

  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw err('SerializationException', 'The request body must be a JSON object.')
  return parsed as Record<string, any>
}

export function jsonOk(requestId: string, out: Record<string, unknown>): SandboxResponse {
  return {body: JSON.stringify(out), headers: {'content-type': JSON_TYPE, 'x-amzn-requestid': requestId}, status: 200}
}

/** An error exactly as AWS JSON 1.1 services send it: {"__type": ..., "message": ...} plus x-amzn-ErrorType. */
export function jsonError(requestId: string, e: SandboxError): SandboxResponse {
  const body: Record<string, string> = {__type: e.type}
  if (e.message) body.message = e.message
  return {
    body: JSON.stringify(body),
    headers: {'content-type': JSON_TYPE, 'x-amzn-errortype': e.type, 'x-amzn-requestid': requestId},
    status: e.status,
  }
}

export function xml(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
}

/** A query-protocol (STS) error document. */
export function xmlError(requestId: string, code: string, message: string, status = 400, type: 'Receiver' | 'Sender' = 'Sender'): SandboxResponse {
  return {
    body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>${type}</Type><Code>${xml(code)}</Code><Message>${xml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    headers: {'content-type': 'text/xml', 'x-amzn-requestid': requestId},
    status,
  }
}

/** Query-protocol error codes and statuses for the errors the JSON services name with an Exception suffix. */
const QUERY_ERRORS: Record<string, {code: string; status?: number}> = {
  IncompleteSignatureException: {code: 'IncompleteSignature'},
  InvalidSignatureException: {code: 'SignatureDoesNotMatch', status: 403},
  MissingAuthenticationTokenException: {code: 'MissingAuthenticationToken', status: 403},
}

/** An error in the form of the service's protocol. */
export function errorResponse(protocol: 'json' | 'query', requestId: string, e: SandboxError): SandboxResponse {
  if (protocol === 'json') return jsonError(requestId, e)
  const q = QUERY_ERRORS[e.type]
  return xmlError(requestId, q?.code ?? e.type, e.message, q?.status ?? e.status, e.status >= 500 ? 'Receiver' : 'Sender')
}
