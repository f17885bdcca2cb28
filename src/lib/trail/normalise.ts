// The CloudTrail normaliser: one CloudTrail record in, one flat, honest event out.
// "Who" is spelled out for every identity type CloudTrail writes (IAM users, assumed roles with the
// role behind them, federated users, root, AWS services acting on their own or on a caller's behalf,
// "AWS Internal", other accounts, SAML / web identity / IAM Identity Center users), and the key is
// collected from every place a record names it (resources[], requestParameters, responseElements).
// Pure and dependency-free: it runs in the file-scanning worker threads too.

/** The parts of a CloudTrail record that kmsctl reads. Everything else is kept in the raw record. */
export interface CloudTrailRecord {
  additionalEventData?: Record<string, unknown>
  awsRegion?: string
  errorCode?: string
  errorMessage?: string
  eventCategory?: string
  eventID?: string
  eventName?: string
  eventSource?: string
  eventTime?: string
  eventType?: string
  readOnly?: boolean | string
  recipientAccountId?: string
  requestParameters?: null | Record<string, unknown>
  resources?: Array<{ARN?: string; accountId?: string; type?: string}>
  responseElements?: null | Record<string, unknown>
  sharedEventID?: string
  sourceIPAddress?: string
  userAgent?: string
  userIdentity?: UserIdentity
  vpcEndpointId?: string
  [field: string]: unknown
}

export interface UserIdentity {
  accessKeyId?: string
  accountId?: string
  arn?: string
  credentialId?: string
  identityProvider?: string
  invokedBy?: string
  onBehalfOf?: {identityStoreArn?: string; userId?: string}
  principalId?: string
  sessionContext?: {
    attributes?: Record<string, unknown>
    sessionIssuer?: {accountId?: string; arn?: string; principalId?: string; type?: string; userName?: string}
    sourceIdentity?: string
  }
  type?: string
  userName?: string
}

/** Who made the call, in every form a filter or a report may need. */
export interface Principal {
  /** The caller's account (userIdentity.accountId). */
  account?: string
  accessKeyId?: string
  /** The identity's ARN (for an assumed role: the session ARN). */
  arn?: string
  /** The service that made the call on the caller's behalf, or "AWS Internal". */
  invokedBy?: string
  /** The role behind an assumed-role session, or the user behind a federated one (sessionIssuer). */
  issuerArn?: string
  issuerName?: string
  /** User name, role session name, federated name, SAML / web identity subject, Identity Center user ID. */
  name?: string
  /** The identity provider of SAML and web identity users. */
  provider?: string
  type: string
}

export interface TrailEvent {
  /** AccessDenied* error codes. */
  denied: boolean
  errorCode?: string
  errorMessage?: string
  /** eventName, e.g. Decrypt. */
  event: string
  eventId: string
  /** sourceIPAddress: an IP address, a service name such as s3.amazonaws.com, or "AWS Internal". */
  from: string
  /** The key as shown to a person: the alias the caller used or a known alias, else the key ID. */
  key?: string
  /** Key ARN (from resources[] or responseElements) when the record names one. */
  keyArn?: string
  keyId?: string
  /** requestParameters.keyId exactly as the caller sent it (ID, ARN, alias name or alias ARN). */
  keySent?: string
  /** Every key reference in the record (resources[].ARN, requestParameters.*KeyId, responseElements.keyId). */
  keyRefs: string[]
  /** "ok" or the error code. */
  outcome: string
  principal: Principal
  readOnly?: boolean
  /** The account that received the event (the key owner for calls from other accounts). */
  recipientAccount?: string
  region: string
  /** Same ID in both accounts' trails for a call from another account. */
  sharedEventId?: string
  /** eventSource, e.g. kms.amazonaws.com. */
  source: string
  /** eventTime, ISO 8601 UTC. */
  time: string
  userAgent?: string
  vpcEndpoint?: string
  /** A one-line, honest description of the caller. */
  who: string
}

const KEY_PARAM_FIELDS = ['keyId', 'sourceKeyId', 'destinationKeyId', 'targetKeyId'] as const

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** The resource part of an ARN after its type: arn:aws:iam::1:role/path/Name -> path/Name. */
function arnResource(arn: string | undefined, type: string): string | undefined {
  if (!arn) return undefined
  const marker = `:${type}/`
  const at = arn.indexOf(marker)
  return at === -1 ? undefined : arn.slice(at + marker.length)
}

/** The last path segment of a name with paths (role/path/to/Name -> Name). */
function lastSegment(value: string | undefined): string | undefined {
  if (!value) return undefined
  const parts = value.split('/')
  return parts.at(-1) || undefined
}

export function normalisePrincipal(identity: UserIdentity | undefined): Principal {
  const u = identity ?? {}
  const issuer = u.sessionContext?.sessionIssuer
  const type = str(u.type) ?? (u.invokedBy === 'AWS Internal' ? 'AWSInternal' : 'Unknown')
  const p: Principal = {
    account: str(u.accountId),
    accessKeyId: str(u.accessKeyId),
    arn: str(u.arn),
    invokedBy: str(u.invokedBy),
    type,
  }
  if (issuer?.arn) p.issuerArn = issuer.arn
  if (issuer?.userName) p.issuerName = issuer.userName

  switch (type) {
    case 'IAMUser': {
      p.name = str(u.userName) ?? lastSegment(arnResource(u.arn, 'user'))
      break
    }

    case 'AssumedRole': {
      // arn:aws:sts::1:assumed-role/RoleName/SessionName
      const session = arnResource(u.arn, 'assumed-role')
      p.name = session ? session.split('/').slice(1).join('/') || undefined : str(u.principalId)?.split(':')[1]
      p.issuerName ??= session?.split('/')[0] ?? lastSegment(arnResource(issuer?.arn, 'role'))
      break
    }

    case 'FederatedUser': {
      p.name = lastSegment(arnResource(u.arn, 'federated-user')) ?? str(u.principalId)?.split(':')[1]
      break
    }

    case 'SAMLUser':
    case 'WebIdentityUser': {
      p.name = str(u.userName) ?? str(u.principalId)
      p.provider = str(u.identityProvider)
      break
    }

    case 'IdentityCenterUser': {
      p.name = str(u.userName) ?? str(u.onBehalfOf?.userId)
      break
    }

    case 'Root': {
      p.name = 'root'
      break
    }

    default: {
      p.name = str(u.userName)
    }
  }

  return p
}

/** The "who" column: honest for every identity type, with the account when it is not the recipient's. */
export function describePrincipal(p: Principal, recipientAccount?: string): string {
  let who: string
  switch (p.type) {
    case 'IAMUser': {
      who = `user/${p.name ?? p.arn ?? '?'}`
      break
    }

    case 'AssumedRole': {
      const role = p.issuerName ?? lastSegment(arnResource(p.issuerArn, 'role')) ?? '?'
      who = `role/${role}${p.name ? ` (${p.name})` : ''}`
      break
    }

    case 'FederatedUser': {
      who = `federated/${p.name ?? '?'}${p.issuerName ? ` (via user/${p.issuerName})` : ''}`
      break
    }

    case 'Root': {
      who = 'root'
      break
    }

    case 'AWSService': {
      return p.invokedBy === 'AWS Internal' ? 'AWS Internal' : `via ${p.invokedBy ?? 'an AWS service'}`
    }

    case 'AWSInternal': {
      return p.account && recipientAccount && p.account !== recipientAccount ? `AWS Internal (account ${p.account})` : 'AWS Internal'
    }

    case 'AWSAccount': {
      who = `account ${p.account ?? '?'}`
      break
    }

    case 'SAMLUser': {
      who = `saml/${p.name ?? '?'}`
      break
    }

    case 'WebIdentityUser': {
      who = `web-identity/${p.name ?? '?'}${p.provider ? ` (${p.provider})` : ''}`
      break
    }

    case 'IdentityCenterUser': {
      who = `identity-center/${p.name ?? '?'}`
      break
    }

    default: {
      who = p.arn ?? p.name ?? (p.account ? `account ${p.account}` : p.type)
    }
  }

  // Another account's caller: show whose account it is (the type AWSAccount already says so).
  if (p.type !== 'AWSAccount' && p.account && recipientAccount && p.account !== recipientAccount) {
    who += ` [account ${p.account}]`
  }

  if (p.invokedBy) who += ` via ${p.invokedBy}`
  return who
}

/** Key ID from a key ARN or a bare key ID; undefined for aliases. */
export function keyIdOf(ref: string): string | undefined {
  if (ref.startsWith('arn:')) return arnResource(ref, 'key')
  if (ref.startsWith('alias/')) return undefined
  return ref
}

/** alias/name from an alias name or alias ARN; undefined for keys. */
export function aliasOf(ref: string): string | undefined {
  if (ref.startsWith('alias/')) return ref
  const name = arnResource(ref, 'alias')
  return name ? `alias/${name}` : undefined
}

function isKeyArn(ref: string): boolean {
  return ref.startsWith('arn:') && ref.includes(':key/')
}

/** Every key the record names, the key ARN, and what the caller sent. */
export function keyReferences(record: CloudTrailRecord): {arn?: string; refs: string[]; sent?: string} {
  const refs: string[] = []
  const add = (v: unknown) => {
    const s = str(v)
    if (s && !refs.includes(s)) refs.push(s)
  }

  let arn: string | undefined
  for (const r of Array.isArray(record.resources) ? record.resources : []) {
    if (r && typeof r.ARN === 'string' && (r.type === 'AWS::KMS::Key' || isKeyArn(r.ARN))) {
      add(r.ARN)
      arn ??= isKeyArn(r.ARN) ? r.ARN : undefined
    }
  }

  const req = record.requestParameters && typeof record.requestParameters === 'object' ? record.requestParameters : undefined
  const sent = str(req?.keyId) ?? str(req?.sourceKeyId) ?? str(req?.targetKeyId)
  if (req) for (const f of KEY_PARAM_FIELDS) add(req[f])
  const res = record.responseElements && typeof record.responseElements === 'object' ? record.responseElements : undefined
  if (res) {
    add(res.keyId)
    const meta = res.keyMetadata as Record<string, unknown> | undefined
    if (meta && typeof meta === 'object') {
      add(meta.arn)
      add(meta.keyId)
    }

    const resKey = str(res.keyId) ?? str(meta?.arn)
    if (!arn && resKey && isKeyArn(resKey)) arn = resKey
  }

  if (!arn) arn = refs.find((r) => isKeyArn(r))
  return {arn, refs, sent}
}

function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value
  if (value === 'true') return true
  if (value === 'false') return false
  return undefined
}

export interface NormaliseOptions {
  /** Known aliases by key ARN or key ID, for the key column. */
  aliases?: ReadonlyMap<string, string>
}

/** One CloudTrail record -> one TrailEvent. Never throws on a partial record. */
export function normalise(record: CloudTrailRecord, options: NormaliseOptions = {}): TrailEvent {
  const principal = normalisePrincipal(record.userIdentity)
  const recipientAccount = str(record.recipientAccountId)
  const keys = keyReferences(record)
  const keyId = keys.arn ? keyIdOf(keys.arn) : keys.refs.map((r) => keyIdOf(r)).find(Boolean)
  const sentAlias = keys.sent ? aliasOf(keys.sent) : undefined
  const knownAlias = (keys.arn && options.aliases?.get(keys.arn)) || (keyId && options.aliases?.get(keyId)) || undefined
  const errorCode = str(record.errorCode)
  const event: TrailEvent = {
    denied: Boolean(errorCode && errorCode.startsWith('AccessDenied')),
    event: str(record.eventName) ?? '?',
    eventId: str(record.eventID) ?? '',
    from: str(record.sourceIPAddress) ?? '',
    keyRefs: keys.refs,
    outcome: errorCode ?? 'ok',
    principal,
    region: str(record.awsRegion) ?? '',
    source: str(record.eventSource) ?? '',
    time: str(record.eventTime) ?? '',
    who: describePrincipal(principal, recipientAccount),
  }
  const key = sentAlias ?? knownAlias ?? keyId ?? keys.sent
  if (key) event.key = key
  if (keys.arn) event.keyArn = keys.arn
  if (keyId) event.keyId = keyId
  if (keys.sent) event.keySent = keys.sent
  if (errorCode) event.errorCode = errorCode
  const errorMessage = str(record.errorMessage)
  if (errorMessage) event.errorMessage = errorMessage
  const readOnly = asBoolean(record.readOnly)
  if (readOnly !== undefined) event.readOnly = readOnly
  if (recipientAccount) event.recipientAccount = recipientAccount
  const shared = str(record.sharedEventID)
  if (shared) event.sharedEventId = shared
  const ua = str(record.userAgent)
  if (ua) event.userAgent = ua
  const vpce = str(record.vpcEndpointId)
  if (vpce) event.vpcEndpoint = vpce
  return event
}

/** The "from" column: the address or service, and the VPC endpoint when there is one. */
export function describeFrom(event: TrailEvent): string {
  return event.vpcEndpoint ? `${event.from} (${event.vpcEndpoint})` : event.from
}

/**
 * Aliases learned from records: a call that sent an alias and names the key ARN, or CreateAlias /
 * UpdateAlias (aliasName -> targetKeyId). Returns [alias, key ref] pairs.
 */
export function aliasBindings(record: CloudTrailRecord): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const req = record.requestParameters && typeof record.requestParameters === 'object' ? record.requestParameters : undefined
  if (!req || record.errorCode) return out
  const aliasName = str(req.aliasName)
  const target = str(req.targetKeyId)
  if (aliasName && target && (record.eventName === 'CreateAlias' || record.eventName === 'UpdateAlias')) {
    const alias = aliasOf(aliasName)
    if (alias) out.push([alias, target])
  }

  const sent = str(req.keyId)
  const alias = sent ? aliasOf(sent) : undefined
  if (alias) {
    const {arn} = keyReferences(record)
    if (arn) out.push([alias, arn])
  }

  return out
}
