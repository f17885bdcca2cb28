// The only place that loads AWS SDK code. Everything else imports SDK *types* only
// (`import type`), so that `--help`, `--version` and commands that need no AWS call
// never pay for loading the SDK.

import {createRequire} from 'node:module'

// The SDK warns on stderr about Node versions it will stop supporting; kmsctl declares
// the Node range it supports in package.json, so that notice is not the user's business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export type KmsSdk = typeof import('@aws-sdk/client-kms')
export type CloudTrailSdk = typeof import('@aws-sdk/client-cloudtrail')
export type StsSdk = typeof import('@aws-sdk/client-sts')
export type OrganizationsSdk = typeof import('@aws-sdk/client-organizations')
export type AccountSdk = typeof import('@aws-sdk/client-account')
export type S3Sdk = typeof import('@aws-sdk/client-s3')
export type AthenaSdk = typeof import('@aws-sdk/client-athena')
/**
 * The parts of the AWS Encryption SDK for JavaScript kmsctl uses (those @aws-crypto/client-node
 * bundles): the KMS keyring and the materials; the message body's functions are loaded by
 * src/lib/data/frames.ts.
 */
export interface EncryptionSdk {
  kmsKeyring: typeof import('@aws-crypto/kms-keyring')
  materials: typeof import('@aws-crypto/material-management-node')
}

// The SDK packages are CommonJS: loading them with require() rather than import() spares Node
// the scan of each package's source for its named exports (about 10 ms for the KMS client).
const load = createRequire(import.meta.url)

let kms: Promise<KmsSdk> | undefined
let cloudtrail: Promise<CloudTrailSdk> | undefined
let sts: Promise<StsSdk> | undefined
let organizations: Promise<OrganizationsSdk> | undefined
let account: Promise<AccountSdk> | undefined
let s3: Promise<S3Sdk> | undefined
let athena: Promise<AthenaSdk> | undefined
let encryption: Promise<EncryptionSdk> | undefined

/** Loads an SDK package (CommonJS) on first use. */
export function loadSdkPackage<T>(name: string): Promise<T> {
  return new Promise((resolve) => {
    resolve(load(name) as T)
  })
}

export function kmsSdk(): Promise<KmsSdk> {
  kms ??= loadSdkPackage<KmsSdk>('@aws-sdk/client-kms')
  return kms
}

export function cloudtrailSdk(): Promise<CloudTrailSdk> {
  cloudtrail ??= loadSdkPackage<CloudTrailSdk>('@aws-sdk/client-cloudtrail')
  return cloudtrail
}

export function stsSdk(): Promise<StsSdk> {
  sts ??= loadSdkPackage<StsSdk>('@aws-sdk/client-sts')
  return sts
}

export function organizationsSdk(): Promise<OrganizationsSdk> {
  organizations ??= loadSdkPackage<OrganizationsSdk>('@aws-sdk/client-organizations')
  return organizations
}

export function accountSdk(): Promise<AccountSdk> {
  account ??= loadSdkPackage<AccountSdk>('@aws-sdk/client-account')
  return account
}

/**
 * The AWS Encryption SDK (message format, KMS keyring), for the `data` commands only. Its component
 * packages are loaded rather than @aws-crypto/client-node, whose index also loads the DynamoDB client
 * for a keyring kmsctl does not use (some 70 ms at every start).
 */
export function encryptionSdk(): Promise<EncryptionSdk> {
  encryption ??= Promise.all([
    loadSdkPackage<EncryptionSdk['kmsKeyring']>('@aws-crypto/kms-keyring'),
    loadSdkPackage<EncryptionSdk['materials']>('@aws-crypto/material-management-node'),
  ]).then(([kmsKeyring, materials]) => ({kmsKeyring, materials}))
  return encryption
}

export function s3Sdk(): Promise<S3Sdk> {
  s3 ??= loadSdkPackage<S3Sdk>('@aws-sdk/client-s3')
  return s3
}

export function athenaSdk(): Promise<AthenaSdk> {
  athena ??= loadSdkPackage<AthenaSdk>('@aws-sdk/client-athena')
  return athena
}
