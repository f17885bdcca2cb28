// Loaded before every test file: no test may read the developer's ~/.aws or ~/.kmsctl, or reach AWS.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

// Every temporary file of the run, the tests' own and those of the processes they start, goes under one
// directory that is removed when the run ends (KMSCTL_TEST_KEEP_TMP=1 keeps it for a post-mortem).
const root = mkdtempSync(join(tmpdir(), 'kmsctl-test-'))
process.env.TMPDIR = root
process.env.AWS_CONFIG_FILE = join(root, 'aws-config-none')
process.env.AWS_SHARED_CREDENTIALS_FILE = join(root, 'aws-credentials-none')
process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
process.env.AWS_REGION = 'us-east-1'
process.env.AWS_EC2_METADATA_DISABLED = 'true'
process.env.KMSCTL_HOME = join(root, 'home')
process.env.NO_COLOR = '1'
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
delete process.env.AWS_PROFILE
delete process.env.AWS_DEFAULT_REGION
delete process.env.AWS_SESSION_TOKEN
delete process.env.AWS_ENDPOINT_URL
delete process.env.AWS_ENDPOINT_URL_KMS
delete process.env.AWS_ENDPOINT_URL_CLOUDTRAIL
delete process.env.KMSCTL_SANDBOX
delete process.env.KMSCTL_SANDBOX_DIR
delete process.env.AWS_MAX_ATTEMPTS
delete process.env.DEBUG

export const testRoot = root

export const mochaHooks = {
  afterAll(): void {
    if (process.env.KMSCTL_TEST_KEEP_TMP === '1') return
    rmSync(root, {force: true, maxRetries: 3, recursive: true})
  },
}
