import {expect} from 'chai'

import {aliasBindings, describeFrom, normalise} from '../../../src/lib/trail/normalise.js'
import * as f from './fixtures.js'

describe('trail normalise', () => {
  describe('who', () => {
    it('IAM user: user/NAME, with the access key and ARN kept', () => {
      const e = normalise(f.record())
      expect(e.who).to.equal('user/alice')
      expect(e.principal).to.include({accessKeyId: 'AKIAIOSFODNN7EXAMPLE', arn: `arn:aws:iam::${f.ACCOUNT}:user/alice`, name: 'alice', type: 'IAMUser'})
    })

    it('assumed role: the role behind the session and the session name', () => {
      const e = normalise(f.record({userIdentity: f.assumedRole('Payments', 'i-0abc123')}))
      expect(e.who).to.equal('role/Payments (i-0abc123)')
      expect(e.principal.issuerArn).to.equal(`arn:aws:iam::${f.ACCOUNT}:role/service/Payments`)
      expect(e.principal.name).to.equal('i-0abc123')
    })

    it('assumed role without a sessionIssuer: the role name comes from the session ARN', () => {
      const identity = {...f.assumedRole('Ops', 'bob'), sessionContext: undefined}
      expect(normalise(f.record({userIdentity: identity})).who).to.equal('role/Ops (bob)')
    })

    it('federated user: the federated name and the user that federated it', () => {
      expect(normalise(f.record({userIdentity: f.federatedUser()})).who).to.equal('federated/bob (via user/broker)')
    })

    it('root', () => {
      expect(normalise(f.record({userIdentity: f.root()})).who).to.equal('root')
    })

    it('an AWS service on its own: "via" the service', () => {
      const e = normalise(f.record({sourceIPAddress: 's3.amazonaws.com', userIdentity: f.awsService('s3.amazonaws.com')}))
      expect(e.who).to.equal('via s3.amazonaws.com')
      expect(e.from).to.equal('s3.amazonaws.com')
    })

    it('a caller through a service: the caller, then "via" the service', () => {
      const identity = {...f.assumedRole('App', 'web-1'), invokedBy: 's3.amazonaws.com'}
      expect(normalise(f.record({userIdentity: identity})).who).to.equal('role/App (web-1) via s3.amazonaws.com')
    })

    it('"AWS Internal" with only accountId and invokedBy', () => {
      const e = normalise(f.record({sourceIPAddress: 'AWS Internal', userIdentity: f.awsInternal()}))
      expect(e.who).to.equal('AWS Internal')
      expect(e.principal.type).to.equal('AWSInternal')
      expect(e.from).to.equal('AWS Internal')
    })

    it('AWSService invoked by "AWS Internal"', () => {
      expect(normalise(f.record({userIdentity: {invokedBy: 'AWS Internal', type: 'AWSService'}})).who).to.equal('AWS Internal')
    })

    it('another account (AWSAccount): the account is shown, and the sharedEventID kept', () => {
      const e = normalise(f.record({sharedEventID: 'c6d1b5a2-0000-4000-8000-000000000001', userIdentity: f.awsAccount()}))
      expect(e.who).to.equal(`account ${f.OTHER}`)
      expect(e.sharedEventId).to.equal('c6d1b5a2-0000-4000-8000-000000000001')
      expect(e.recipientAccount).to.equal(f.ACCOUNT)
    })

    it('a role in another account: the role and its account', () => {
      const identity = {
        ...f.assumedRole('Reader', 's1'),
        accountId: f.OTHER,
        arn: `arn:aws:sts::${f.OTHER}:assumed-role/Reader/s1`,
      }
      expect(normalise(f.record({userIdentity: identity})).who).to.equal(`role/Reader (s1) [account ${f.OTHER}]`)
    })

    it('SAML user', () => {
      expect(normalise(f.record({userIdentity: f.samlUser()})).who).to.equal('saml/alice@example.com')
    })

    it('web identity user, with the provider', () => {
      expect(normalise(f.record({userIdentity: f.webIdentityUser()})).who).to.equal('web-identity/1234567890 (accounts.google.com)')
    })

    it('IAM Identity Center user: the user ID it acted for', () => {
      expect(normalise(f.record({userIdentity: f.identityCenterUser()})).who).to.equal('identity-center/94482488-3041-7026-18f3-be45837cd0e4')
    })

    it('an unknown type or no identity at all never throws', () => {
      expect(normalise(f.record({userIdentity: {arn: 'arn:aws:iam::1:thing/x', type: 'Mystery'}})).who).to.equal('arn:aws:iam::1:thing/x')
      expect(normalise(f.record({userIdentity: undefined})).who).to.equal('Unknown')
      expect(normalise({}).event).to.equal('?')
    })
  })

  describe('key', () => {
    it('sent as an ID: shown as the ID, ARN from resources[]', () => {
      const e = normalise(f.record())
      expect(e).to.include({key: f.KEY_ID, keyArn: f.KEY_ARN, keyId: f.KEY_ID, keySent: f.KEY_ID})
      expect(e.keyRefs).to.deep.equal([f.KEY_ARN, f.KEY_ID])
    })

    it('sent as an alias: shown as that alias', () => {
      const e = normalise(f.record({requestParameters: {keyId: 'alias/payments'}}))
      expect(e.key).to.equal('alias/payments')
      expect(e.keyId).to.equal(f.KEY_ID)
    })

    it('sent as an alias ARN: shown as the alias name', () => {
      expect(normalise(f.record({requestParameters: {keyId: `arn:aws:kms:us-east-1:${f.ACCOUNT}:alias/payments`}})).key).to.equal('alias/payments')
    })

    it('a known alias is shown for a key sent by ID', () => {
      const e = normalise(f.record(), {aliases: new Map([[f.KEY_ARN, 'alias/known']])})
      expect(e.key).to.equal('alias/known')
    })

    it('management calls: responseElements.keyId and keyMetadata.arn', () => {
      const e = normalise(f.record({eventName: 'CreateKey', requestParameters: {keySpec: 'SYMMETRIC_DEFAULT'}, resources: undefined, responseElements: {keyMetadata: {arn: f.KEY_ARN, keyId: f.KEY_ID}}}))
      expect(e.keyArn).to.equal(f.KEY_ARN)
      expect(e.key).to.equal(f.KEY_ID)
      const d = normalise(f.record({eventName: 'DisableKey', resources: [], responseElements: {keyId: f.KEY_ARN}}))
      expect(d.keyArn).to.equal(f.KEY_ARN)
    })

    it('ReEncrypt names both keys', () => {
      const e = normalise(
        f.record({
          eventName: 'ReEncrypt',
          requestParameters: {destinationKeyId: f.OTHER_KEY_ID, sourceKeyId: f.KEY_ARN},
          resources: [
            {ARN: f.KEY_ARN, accountId: f.ACCOUNT, type: 'AWS::KMS::Key'},
            {ARN: f.OTHER_KEY_ARN, accountId: f.ACCOUNT, type: 'AWS::KMS::Key'},
          ],
        }),
      )
      expect(e.keyRefs).to.include.members([f.KEY_ARN, f.OTHER_KEY_ARN, f.OTHER_KEY_ID])
    })
  })

  describe('outcome and the rest', () => {
    it('errors: the code is the outcome, AccessDenied* is denied', () => {
      const e = normalise(f.record({errorCode: 'AccessDenied', errorMessage: 'User: arn:... is not authorized to perform: kms:Decrypt'}))
      expect(e).to.include({denied: true, errorCode: 'AccessDenied', outcome: 'AccessDenied'})
      const g = normalise(f.record({errorCode: 'InvalidCiphertextException'}))
      expect(g).to.include({denied: false, outcome: 'InvalidCiphertextException'})
      expect(normalise(f.record()).outcome).to.equal('ok')
    })

    it('readOnly as a boolean or a string', () => {
      expect(normalise(f.record({readOnly: 'false'})).readOnly).to.equal(false)
      expect(normalise(f.record({readOnly: true})).readOnly).to.equal(true)
    })

    it('from: address and VPC endpoint', () => {
      const e = normalise(f.record({sourceIPAddress: '10.0.1.5', vpcEndpointId: 'vpce-0abc'}))
      expect(describeFrom(e)).to.equal('10.0.1.5 (vpce-0abc)')
    })
  })

  describe('alias bindings learned from records', () => {
    it('CreateAlias and a call that sent an alias', () => {
      expect(aliasBindings(f.record({eventName: 'CreateAlias', requestParameters: {aliasName: 'alias/x', targetKeyId: f.KEY_ID}, resources: []}))).to.deep.equal([['alias/x', f.KEY_ID]])
      expect(aliasBindings(f.record({requestParameters: {keyId: 'alias/y'}}))).to.deep.equal([['alias/y', f.KEY_ARN]])
      expect(aliasBindings(f.record({errorCode: 'NotFoundException', requestParameters: {keyId: 'alias/y'}}))).to.deep.equal([])
    })
  })
})
