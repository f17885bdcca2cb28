// Runs the AWS CLI v2 (the Debian awscli package at /usr/bin/aws; a v1 `aws` may be earlier on PATH and
// is not used) against a sandbox server, in an isolated environment: no config or credentials files,
// no pager, one attempt per request.
import {spawn} from 'node:child_process'

export const AWS_CLI = '/usr/bin/aws'

export interface AwsResult {
  code: number | null
  /** The AWS error code from "An error occurred (CODE) when calling ...", if any. */
  errorCode?: string
  errorMessage?: string
  json: any
  stderr: string
  stdout: string
}

export interface AwsTarget {
  /** The sandbox server's URL. */
  url: string
  accessKeyId: string
  secretAccessKey: string
  /** A directory for the CLI's HOME. */
  home: string
  /** Temporary credentials (an assumed role): the session token. */
  sessionToken?: string
}

export function runAws(target: AwsTarget, args: string[]): Promise<AwsResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(AWS_CLI, ['--endpoint-url', target.url, '--output', 'json', ...args], {
      env: {
        AWS_ACCESS_KEY_ID: target.accessKeyId,
        AWS_CONFIG_FILE: '/dev/null',
        AWS_DEFAULT_REGION: 'us-east-1',
        // Newer CLIs read the endpoint from here; 2.9 needs --endpoint-url (passed above).
        AWS_ENDPOINT_URL: target.url,
        AWS_MAX_ATTEMPTS: '1',
        AWS_PAGER: '',
        AWS_REGION: 'us-east-1',
        AWS_SECRET_ACCESS_KEY: target.secretAccessKey,
        AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
        ...(target.sessionToken ? {AWS_SESSION_TOKEN: target.sessionToken} : {}),
        HOME: target.home,
        LANG: 'C.UTF-8',
        PATH: '/usr/bin:/bin',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const m = /An error occurred \(([^)]+)\) when calling the \w+ operation(?: \([^)]*\))?: ?(.*)/.exec(stderr)
      let json: any
      try {
        json = stdout.trim() ? JSON.parse(stdout) : undefined
      } catch {
        json = undefined
      }

      resolve({code, errorCode: m?.[1], errorMessage: m?.[2]?.trim(), json, stderr, stdout})
    })
  })
}
