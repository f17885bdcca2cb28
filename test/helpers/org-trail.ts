// An organization trail's bucket, written deterministically for tests: AWSLogs/<org>/<account>/
// CloudTrail/<region>/YYYY/MM/DD/*.json.gz for three accounts and two regions over four days, with
// IAM users, assumed roles, AWS services acting alone or for a caller, "AWS Internal", cross-account
// calls logged in both accounts (one sharedEventID), failures, keys sent as IDs, ARNs and aliases,
// other services' events, a duplicate delivery, digest files, and principals and user agents with
// quotes, backslashes and non-ASCII letters.
import {createHash} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

export const ORG = 'o-kmsctltest01'
export const ACCOUNTS = ['111122223333', '444455556666', '777788889999'] as const
export const REGIONS = ['us-east-1', 'eu-west-1'] as const
export const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03', '2026-11-04'] as const

export interface OrgKey {
  account: string
  alias: string
  arn: string
  id: string
  region: string
}

export interface OrgTrail {
  dir: string
  keys: OrgKey[]
  records: number
}

let counter = 0
function uuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`
}

function rand(seed: string): number {
  return Number.parseInt(createHash('sha256').update(seed).digest('hex').slice(0, 8), 16) / 0xffffffff
}

const pick = <T>(list: readonly T[], seed: string): T => list[Math.floor(rand(seed) * list.length) % list.length]

const AGENTS = ['aws-cli/2.15.0 Python/3.11.6 Linux/6.1', 'Boto3/1.34.0 md/Botocore#1.34.0 lang/python#3.11.6', 'aws-sdk-go-v2/1.24.0 os/linux', "curl-ish 'quoted' agent", 'agent with back\\slash', 'Übersetzer/1.0 (jürgen)']
const EVENTS = ['Decrypt', 'Decrypt', 'GenerateDataKey', 'Encrypt', 'DescribeKey', 'CreateGrant', 'DisableKey', 'ScheduleKeyDeletion']
const READ_ONLY = new Set(['Decrypt', 'GenerateDataKey', 'Encrypt', 'DescribeKey'])

function identity(account: string, seed: string, other: string): Record<string, unknown> {
  const r = rand(seed)
  if (r < 0.35) {
    const role = pick(['Payments', 'ci-deploy', 'Reporting'], `${seed}r`)
    const session = `s-${Math.floor(rand(`${seed}s`) * 1e6)}`
    return {
      accessKeyId: `ASIA${uuid(seed).replaceAll('-', '').slice(0, 16).toUpperCase()}`,
      accountId: account,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
      principalId: `AROAEXAMPLE${role.toUpperCase()}:${session}`,
      sessionContext: {sessionIssuer: {accountId: account, arn: `arn:aws:iam::${account}:role/${role}`, principalId: `AROAEXAMPLE${role.toUpperCase()}`, type: 'Role', userName: role}},
      type: 'AssumedRole',
    }
  }

  if (r < 0.6) {
    const user = pick(['alice', "o'brien", 'jürgen', 'back\\slash'], `${seed}u`)
    return {accessKeyId: `AKIA${uuid(seed).replaceAll('-', '').slice(0, 16).toUpperCase()}`, accountId: account, arn: `arn:aws:iam::${account}:user/${user}`, principalId: 'AIDAEXAMPLE', type: 'IAMUser', userName: user}
  }

  if (r < 0.72) return {invokedBy: pick(['s3.amazonaws.com', 'secretsmanager.amazonaws.com'], `${seed}i`), type: 'AWSService'}
  if (r < 0.8) return {accountId: account, invokedBy: 'AWS Internal'}
  // A caller from another account of the organisation (logged in both accounts).
  return {
    accessKeyId: `ASIAOTHER${uuid(seed).replaceAll('-', '').slice(0, 11).toUpperCase()}`,
    accountId: other,
    arn: `arn:aws:sts::${other}:assumed-role/Reader/x-${Math.floor(rand(`${seed}x`) * 1000)}`,
    principalId: 'AROAEXAMPLEREADER:x',
    sessionContext: {sessionIssuer: {accountId: other, arn: `arn:aws:iam::${other}:role/Reader`, principalId: 'AROAEXAMPLEREADER', type: 'Role', userName: 'Reader'}},
    type: 'AssumedRole',
  }
}

export function writeOrgTrail(dir: string, perFile = 40): OrgTrail {
  counter = 0
  const keys: OrgKey[] = []
  for (const account of ACCOUNTS) {
    for (const region of REGIONS) {
      for (let i = 0; i < 2; i++) {
        const id = uuid(`key:${account}:${region}:${i}`)
        keys.push({account, alias: `alias/app-${account.slice(0, 3)}-${region}-${i}`, arn: `arn:aws:kms:${region}:${account}:key/${id}`, id, region})
      }
    }
  }

  const files = new Map<string, Array<Record<string, unknown>>>()
  const add = (account: string, region: string, stamp: string, record: Record<string, unknown>) => {
    const day = stamp.slice(0, 10)
    const [y, m, d] = day.split('-')
    const hhmm = stamp.slice(11, 13) + stamp.slice(14, 16)
    const path = join(dir, 'AWSLogs', ORG, account, 'CloudTrail', region, y, m, d, `${account}_CloudTrail_${region}_${y}${m}${d}T${hhmm}Z_${uuid(`${account}${region}${stamp}`).replaceAll('-', '').slice(0, 16).toUpperCase()}.json.gz`)
    if (!files.has(path)) files.set(path, [])
    files.get(path)!.push(record)
  }

  let records = 0
  for (const account of ACCOUNTS) {
    const other = ACCOUNTS[(ACCOUNTS.indexOf(account) + 1) % ACCOUNTS.length]
    for (const region of REGIONS) {
      for (const day of DAYS) {
        for (let hour = 0; hour < 24; hour += 6) {
          for (let n = 0; n < perFile; n++) {
            const seed = `${account}${region}${day}${hour}${n}`
            const minute = Math.floor((n / perFile) * 60)
            const time = `${day}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}Z`
            // Delivered within minutes of the last event of the window.
            const delivered = `${day}T${String(hour + 5).padStart(2, '0')}:55`
            const keysHere = keys.filter((k) => k.account === account && k.region === region)
            const key = pick(keysHere, `${seed}k`)
            const name = pick(EVENTS, `${seed}e`)
            const who = identity(account, seed, other)
            const service = who.type === 'AWSService' || (typeof who.invokedBy === 'string' && who.invokedBy !== 'AWS Internal') ? (who.invokedBy as string) : undefined
            const kms = rand(`${seed}kms`) > 0.12
            const failed = rand(`${seed}f`) < 0.08
            const record: Record<string, unknown> = {
              eventVersion: '1.09',
              userIdentity: who,
              eventTime: time,
              eventSource: kms ? 'kms.amazonaws.com' : 'sts.amazonaws.com',
              eventName: kms ? name : 'AssumeRole',
              awsRegion: region,
              sourceIPAddress: service ?? (who.invokedBy === 'AWS Internal' ? 'AWS Internal' : rand(`${seed}ip`) < 0.5 ? `10.0.${n % 8}.${hour + 1}` : `203.0.113.${n % 50}`),
              userAgent: service ?? pick(AGENTS, `${seed}a`),
            }
            if (failed) {
              record.errorCode = rand(`${seed}d`) < 0.6 ? 'AccessDenied' : 'ThrottlingException'
              record.errorMessage = 'The request was rejected.'
            }

            const sent = pick([key.id, key.id, key.arn, key.alias], `${seed}sent`)
            record.requestParameters = kms ? {encryptionContext: {purpose: "it's \"quoted\""}, keyId: sent} : {roleArn: `arn:aws:iam::${account}:role/Reader`, roleSessionName: 'x'}
            record.responseElements = null
            record.requestID = uuid(`${seed}req`)
            record.eventID = uuid(`${seed}id`)
            record.readOnly = kms ? READ_ONLY.has(name) : false
            if (kms) record.resources = [{accountId: account, ARN: key.arn, type: 'AWS::KMS::Key'}]
            record.eventType = 'AwsApiCall'
            record.managementEvent = true
            record.recipientAccountId = account
            record.eventCategory = 'Management'
            counter++
            const callerAccount = who.accountId
            if (typeof callerAccount === 'string' && callerAccount !== account) {
              record.sharedEventID = uuid(`${seed}shared`)
              add(callerAccount, region, `${day}T${String(hour + 5).padStart(2, '0')}:55`, {...record, eventID: uuid(`${seed}copy`), recipientAccountId: callerAccount})
              records++
            }

            add(account, region, delivered, record)
            records++
            // A duplicate delivery of the same event in a later file of the same day.
            if (n === 0 && hour === 6) {
              add(account, region, `${day}T23:55`, record)
            }
          }
        }
      }
    }
  }

  for (const [path, list] of files) {
    mkdirSync(join(path, '..'), {recursive: true})
    writeFileSync(path, gzipSync(JSON.stringify({Records: list})))
    // The digest of the hour: not events, never read.
    const digest = path.replace('/CloudTrail/', '/CloudTrail-Digest/').replace('_CloudTrail_', '_CloudTrail-Digest_')
    mkdirSync(join(digest, '..'), {recursive: true})
    writeFileSync(digest, gzipSync(JSON.stringify({awsAccountId: 'x', logFiles: []})))
  }

  return {dir, keys, records}
}
