// The only place that loads AWS SDK code. Everything else imports SDK *types* only
// (`import type`), so that `--help`, `--version` and commands that need no AWS call
// never pay for loading the SDK.

// The SDK warns on stderr about Node versions it will stop supporting; kmsctl declares
// the Node range it supports in package.json, so that notice is not the user's business.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

export type KmsSdk = typeof import('@aws-sdk/client-kms')
export type CloudTrailSdk = typeof import('@aws-sdk/client-cloudtrail')
export type StsSdk = typeof import('@aws-sdk/client-sts')

let kms: Promise<KmsSdk> | undefined
let cloudtrail: Promise<CloudTrailSdk> | undefined
let sts: Promise<StsSdk> | undefined

export function kmsSdk(): Promise<KmsSdk> {
  kms ??= import('@aws-sdk/client-kms')
  return kms
}

export function cloudtrailSdk(): Promise<CloudTrailSdk> {
  cloudtrail ??= import('@aws-sdk/client-cloudtrail')
  return cloudtrail
}

export function stsSdk(): Promise<StsSdk> {
  sts ??= import('@aws-sdk/client-sts')
  return sts
}
