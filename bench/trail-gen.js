// Generates CloudTrail log files for the `trail query --source files` benchmark, deterministically
// (fixed seed): FILES files of RECORDS records each, in the account layout
// AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<time>_<id>.json.gz,
// mostly KMS calls (several identity types, keys sent as IDs, ARNs and aliases, some failures)
// with some S3, EC2 and STS events. Usage: node bench/trail-gen.js [DIR] [FILES] [RECORDS]
import {mkdirSync, writeFileSync, existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'

const here = dirname(fileURLToPath(import.meta.url))
// Arguments only when run as a script (bench/run.js passes benchmark names in argv).
const main = process.argv[1] === fileURLToPath(import.meta.url)
const dir = (main && process.argv[2]) || join(here, '.data', 'trail')
const FILES = Number((main && process.argv[3]) || 500)
const RECORDS = Number((main && process.argv[4]) || 1000)
const SEED = 20261102

export const ACCOUNT = '111122223333'
export const OTHER = '444455556666'

// mulberry32: a small seeded PRNG, so that every run writes the same files.
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

const rand = prng(SEED)
const pick = (list) => list[Math.floor(rand() * list.length)]
const hex = (n) => {
  let s = ''
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[Math.floor(rand() * 16)]
  return s
}

const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(['8', '9', 'a', 'b'])}${hex(3)}-${hex(12)}`
const alnum = (n) => {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let s = ''
  for (let i = 0; i < n; i++) s += chars[Math.floor(rand() * chars.length)]
  return s
}

const KEYS = Array.from({length: 20}, (_, i) => {
  const id = uuid()
  return {alias: `alias/app-${i}`, arn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/${id}`, id}
})

const ROLES = ['Payments', 'Orders', 'Reporting', 'Lambda-Ingest', 'EKS-Node', 'BackupService']
const USERS = ['alice', 'bob', 'carol', 'deploy-bot']
const KMS_EVENTS = [
  ['Decrypt', 40],
  ['GenerateDataKey', 25],
  ['Encrypt', 10],
  ['DescribeKey', 8],
  ['GenerateDataKeyWithoutPlaintext', 5],
  ['ReEncrypt', 2],
  ['ListAliases', 3],
  ['ListKeys', 2],
  ['GetKeyPolicy', 2],
  ['CreateGrant', 1],
  ['ListGrants', 2],
]
const WEIGHTED = KMS_EVENTS.flatMap(([name, w]) => Array.from({length: w}, () => name))
const READ_ONLY = new Set(['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt', 'DescribeKey', 'ListAliases', 'ListKeys', 'GetKeyPolicy', 'ListGrants'])
const AGENTS = ['aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/kms.decrypt', 'aws-sdk-java/2.25.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy', 'Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0', 'aws-sdk-go-v2/1.24.0 os/linux lang/go#1.21.5 md/GOOS#linux md/GOARCH#amd64 api/kms#1.27.0']

function identity() {
  const r = rand()
  if (r < 0.55) {
    const role = pick(ROLES)
    const session = `i-${hex(17)}`
    return {
      type: 'AssumedRole',
      principalId: `AROA${alnum(17)}:${session}`,
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${session}`,
      accountId: ACCOUNT,
      accessKeyId: `ASIA${alnum(16)}`,
      sessionContext: {
        sessionIssuer: {type: 'Role', principalId: `AROA${alnum(17)}`, arn: `arn:aws:iam::${ACCOUNT}:role/${role}`, accountId: ACCOUNT, userName: role},
        attributes: {creationDate: '2026-11-01T08:00:00Z', mfaAuthenticated: 'false'},
      },
    }
  }

  if (r < 0.75) {
    const user = pick(USERS)
    return {type: 'IAMUser', principalId: `AIDA${alnum(17)}`, arn: `arn:aws:iam::${ACCOUNT}:user/${user}`, accountId: ACCOUNT, accessKeyId: `AKIA${alnum(16)}`, userName: user}
  }

  if (r < 0.9) return {type: 'AWSService', invokedBy: pick(['s3.amazonaws.com', 'secretsmanager.amazonaws.com', 'ebs.amazonaws.com'])}
  if (r < 0.95) return {accountId: ACCOUNT, invokedBy: 'AWS Internal'}
  return {type: 'AWSAccount', principalId: `AIDA${alnum(17)}`, accountId: OTHER}
}

function kmsRecord(time) {
  const name = pick(WEIGHTED)
  const key = pick(KEYS)
  const userIdentity = identity()
  const service = userIdentity.invokedBy && userIdentity.invokedBy !== 'AWS Internal' ? userIdentity.invokedBy : undefined
  const sent = pick([key.id, key.id, key.arn, key.alias])
  const failed = rand() < 0.03
  const rec = {
    eventVersion: '1.09',
    userIdentity,
    eventTime: time,
    eventSource: 'kms.amazonaws.com',
    eventName: name,
    awsRegion: 'us-east-1',
    sourceIPAddress: service ?? (userIdentity.invokedBy === 'AWS Internal' ? 'AWS Internal' : `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`),
    userAgent: service ?? pick(AGENTS),
  }
  if (failed) {
    rec.errorCode = pick(['AccessDenied', 'InvalidCiphertextException', 'ThrottlingException'])
    rec.errorMessage = rec.errorCode === 'AccessDenied' ? `User: ${userIdentity.arn ?? 'unknown'} is not authorized to perform: kms:${name} on this resource because no identity-based policy allows the kms:${name} action` : 'The request was rejected.'
  }

  rec.requestParameters = name.startsWith('List')
    ? {limit: 100}
    : {keyId: sent, encryptionAlgorithm: 'SYMMETRIC_DEFAULT', encryptionContext: {'aws:s3:arn': `arn:aws:s3:::bucket-${hex(6)}/data/part-${hex(12)}.parquet`, purpose: pick(['orders', 'invoices', 'reports'])}}
  rec.responseElements = null
  rec.additionalEventData = {keyMaterialId: hex(64)}
  rec.requestID = uuid()
  rec.eventID = uuid()
  rec.readOnly = READ_ONLY.has(name)
  if (!name.startsWith('List')) rec.resources = [{accountId: ACCOUNT, type: 'AWS::KMS::Key', ARN: key.arn}]
  rec.eventType = 'AwsApiCall'
  rec.managementEvent = true
  rec.recipientAccountId = ACCOUNT
  if (userIdentity.type === 'AWSAccount') rec.sharedEventID = uuid()
  rec.eventCategory = 'Management'
  if (!service && userIdentity.invokedBy !== 'AWS Internal') {
    rec.tlsDetails = {tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'kms.us-east-1.amazonaws.com'}
  }

  return rec
}

function otherRecord(time) {
  const [source, name] = pick([
    ['s3.amazonaws.com', 'GetBucketAcl'],
    ['ec2.amazonaws.com', 'DescribeInstances'],
    ['sts.amazonaws.com', 'AssumeRole'],
    ['s3.amazonaws.com', 'ListBuckets'],
  ])
  const userIdentity = identity()
  return {
    eventVersion: '1.09',
    userIdentity,
    eventTime: time,
    eventSource: source,
    eventName: name,
    awsRegion: 'us-east-1',
    sourceIPAddress: `10.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`,
    userAgent: pick(AGENTS),
    requestParameters: {maxResults: 1000, filterSet: {items: [{name: 'instance-state-name', valueSet: {items: [{value: 'running'}]}}]}, bucketName: `bucket-${hex(6)}`, Host: `bucket-${hex(6)}.s3.us-east-1.amazonaws.com`},
    responseElements: null,
    requestID: uuid(),
    eventID: uuid(),
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    tlsDetails: {tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `${source.split('.')[0]}.us-east-1.amazonaws.com`},
  }
}

const pad = (n, w = 2) => String(n).padStart(w, '0')

export function generate(target = dir, files = FILES, records = RECORDS) {
  const marker = join(target, '.complete')
  const signature = `${SEED} ${files} ${records}`
  if (existsSync(marker) && readFileSync(marker, 'utf8') === signature) return {dir: target, keys: KEYS, reused: true}
  const start = Date.parse('2026-11-01T00:00:00Z')
  const span = 10 * 86_400_000 // ten days of logs, one file every ~29 minutes
  for (let f = 0; f < files; f++) {
    const delivered = new Date(start + Math.floor(((f + 1) * span) / files))
    const base = delivered.getTime() - Math.floor(span / files)
    const recs = []
    for (let r = 0; r < records; r++) {
      const time = new Date(base + Math.floor((r * span) / files / records)).toISOString().replace(/\.\d{3}Z$/, 'Z')
      recs.push(rand() < 0.85 ? kmsRecord(time) : otherRecord(time))
    }

    const y = delivered.getUTCFullYear()
    const m = pad(delivered.getUTCMonth() + 1)
    const d = pad(delivered.getUTCDate())
    const stamp = `${y}${m}${d}T${pad(delivered.getUTCHours())}${pad(delivered.getUTCMinutes())}Z`
    const folder = join(target, 'AWSLogs', ACCOUNT, 'CloudTrail', 'us-east-1', String(y), m, d)
    mkdirSync(folder, {recursive: true})
    const name = `${ACCOUNT}_CloudTrail_us-east-1_${stamp}_${alnum(16)}.json.gz`
    writeFileSync(join(folder, name), gzipSync(JSON.stringify({Records: recs})))
  }

  writeFileSync(marker, signature)
  return {dir: target, keys: KEYS, reused: false}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const t = Date.now()
  const out = generate()
  process.stdout.write(`${out.reused ? 'reused' : 'wrote'} ${FILES} files x ${RECORDS} records under ${out.dir} (${Date.now() - t} ms)\nfirst key: ${KEYS[0].id}\n`)
}
