// Identity of the sandbox: one fictitious account and region, and the default caller.
// Nothing here is a real credential; the sandbox is not for protecting real data.

export const SANDBOX_ACCOUNT = '111122223333'
export const SANDBOX_REGION = 'us-east-1'
/** The access key ID that kmsctl --sandbox signs with when no AWS_ACCESS_KEY_ID is set. */
export const DEFAULT_ACCESS_KEY_ID = 'AKIAKMSCTLSANDBOX001'
export const DEFAULT_SECRET_ACCESS_KEY = 'kmsctl-sandbox-not-a-real-secret-0000000'
export const DEFAULT_PRINCIPAL_ARN = `arn:aws:iam::${SANDBOX_ACCOUNT}:user/sandbox-admin`
export const DEFAULT_PORT = 4599
/** The AWS account ID's root ARN of the sandbox account. */
export const SANDBOX_ROOT_ARN = `arn:aws:iam::${SANDBOX_ACCOUNT}:root`
/** Shown wherever the sandbox is described: it is a test double, not a vault. */
export const NOT_FOR_REAL_DATA = 'The sandbox is for trying kmsctl and for tests: its key material is stored unencrypted. Never use it to protect real data.'
