import {expect} from 'chai'

import {ExitCode, KmsctlError, fromAwsError, stateFromMessage, usageError} from '../../src/lib/errors.js'

function awsError(name: string, message: string, status = 400): Error {
  const e = new Error(message) as Error & {$metadata: {httpStatusCode: number}}
  e.name = name
  e.$metadata = {httpStatusCode: status}
  return e
}

describe('errors', () => {
  it('gives usage errors exit code 2 and a remedy', () => {
    const e = usageError('--days 3 is out of range.', 'Try this: --days 7')
    expect(e.exitCode).to.equal(ExitCode.USAGE)
    expect(e.toJSON()).to.deep.equal({code: 'USAGE', exitCode: 2, message: '--days 3 is out of range.', remedy: 'Try this: --days 7'})
  })

  it('names the action and the key on AccessDenied', () => {
    const e = fromAwsError(awsError('AccessDeniedException', 'User: arn:aws:iam::1:user/x is not authorized'), {key: 'alias/app', operation: 'DisableKey'})
    expect(e.code).to.equal('ACCESS_DENIED')
    expect(e.message).to.equal('Access denied: you are not allowed to call kms:DisableKey on alias/app.')
    expect(e.awsCode).to.equal('AccessDeniedException')
    expect(e.remedy).to.contain('kmsctl policy simulate alias/app')
    expect(e.exitCode).to.equal(1)
  })

  it('says the current state on KMSInvalidState', () => {
    const e = fromAwsError(awsError('KMSInvalidStateException', 'arn:aws:kms:us-east-1:111122223333:key/abc is pending deletion.'), {key: 'abc', operation: 'Decrypt'})
    expect(e.code).to.equal('INVALID_STATE')
    expect(e.message).to.equal('Key abc is in state PendingDeletion: kms:Decrypt is not allowed.')
    expect(e.remedy).to.contain('cancel-deletion')
    expect(stateFromMessage('key/1 is disabled.')).to.equal('Disabled')
  })

  it('maps NotFound, throttling, expired tokens, missing credentials and network failures', () => {
    expect(fromAwsError(awsError('NotFoundException', 'Key x not found'), {key: 'x', operation: 'DescribeKey'}).code).to.equal('NOT_FOUND')
    expect(fromAwsError(awsError('ThrottlingException', 'Rate exceeded'), {operation: 'DisableKey'}).code).to.equal('THROTTLED')
    const expired = fromAwsError(awsError('ExpiredTokenException', 'The security token included in the request is expired'), {profile: 'prod'})
    expect(expired.code).to.equal('EXPIRED_TOKEN')
    expect(expired.remedy).to.contain('aws sso login --profile prod')
    expect(fromAwsError(awsError('CredentialsProviderError', 'Could not load credentials from any providers')).code).to.equal('NO_CREDENTIALS')
    const net = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'})
    expect(fromAwsError(net).code).to.equal('NETWORK')
    expect(fromAwsError(awsError('DisabledException', 'key is disabled'), {key: 'k'}).code).to.equal('DISABLED')
  })

  it('passes a KmsctlError through unchanged', () => {
    const e = new KmsctlError('REFUSED', 'no')
    expect(fromAwsError(e)).to.equal(e)
    expect(e.exitCode).to.equal(2)
  })
})
