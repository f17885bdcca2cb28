import {expect} from 'chai'

import {DAY_MS} from '../../src/lib/time.js'
import {clockStatus, setClock, shiftClock} from '../../src/sandbox/admin.js'
import {ADMIN, Client} from './raw-client.js'

describe('sandbox realism: clock', () => {
  it('deletes a key once its deletion window has passed (then NotFoundException), and CloudTrail times follow', async () => {
    const c = new Client()
    const doomed = await c.createKey()
    const kept = await c.createKey()
    await c.kms(ADMIN, 'ScheduleKeyDeletion', {KeyId: doomed, PendingWindowInDays: 7})
    await c.kms(ADMIN, 'ScheduleKeyDeletion', {KeyId: kept, PendingWindowInDays: 30})
    const dry = await shiftClock(c.dir, 8 * DAY_MS, {dryRun: true})
    expect(dry.deletedKeys).to.deep.equal([doomed])
    expect((await c.kms(ADMIN, 'DescribeKey', {KeyId: doomed})).status).to.equal(200)

    const change = await shiftClock(c.dir, 8 * DAY_MS)
    expect(change.deletedKeys).to.deep.equal([doomed])
    expect(Date.parse(change.after.now) - Date.parse(change.before.now)).to.equal(8 * DAY_MS)
    const gone = await c.kms(ADMIN, 'DescribeKey', {KeyId: doomed})
    expect(gone.type).to.equal('NotFoundException')
    expect((await c.kms(ADMIN, 'DescribeKey', {KeyId: kept})).body.KeyMetadata.KeyState).to.equal('PendingDeletion')
    const eventTime = Date.parse(c.core.store.readEvents().at(-1)!.eventTime)
    expect(eventTime - Date.now()).to.be.within(8 * DAY_MS - 5000, 8 * DAY_MS + 5000)
    expect(clockStatus(c.dir).stateOffsetMs).to.equal(8 * DAY_MS)
    // KMS's own deletion is in CloudTrail, as a service event at the end of the waiting period.
    const deletion = c.core.store.readEvents().find((e) => e.eventName === 'DeleteKey')!
    expect(deletion).to.deep.include({eventType: 'AwsServiceEvent', sourceIPAddress: 'kms.amazonaws.com', userIdentity: {accountId: '111122223333', invokedBy: 'kms.amazonaws.com'}})
    expect(deletion.resources[0].ARN).to.equal(doomed)
    expect(Date.parse(deletion.eventTime) - Date.now()).to.be.within(7 * DAY_MS - 5000, 7 * DAY_MS + 5000)
  })

  it('makes automatic rotations that fall due, and sets the time back to real time', async () => {
    const c = new Client()
    const arn = await c.createKey()
    await c.kms(ADMIN, 'EnableKeyRotation', {KeyId: arn, RotationPeriodInDays: 90})
    const change = await shiftClock(c.dir, 181 * DAY_MS)
    expect(change.rotatedKeys).to.deep.equal([{keyArn: arn, rotations: 2}])
    const rotateEvents = c.core.store.readEvents().filter((e) => e.eventName === 'RotateKey')
    expect(rotateEvents.map((e) => Math.round((Date.parse(e.eventTime) - Date.now()) / DAY_MS))).to.deep.equal([90, 180])
    const rotations = await c.kms(ADMIN, 'ListKeyRotations', {KeyId: arn})
    expect(rotations.body.Rotations).to.have.length(2)
    const back = await setClock(c.dir, new Date())
    expect(Math.abs(back.after.stateOffsetMs)).to.be.below(2000)
  })

  it('adds KMSCTL_SANDBOX_NOW_OFFSET_MS from the environment', () => {
    const c = new Client()
    const status = clockStatus(c.dir, {KMSCTL_SANDBOX_NOW_OFFSET_MS: String(DAY_MS)})
    expect(status.envOffsetMs).to.equal(DAY_MS)
    expect(Date.parse(status.now) - Date.parse(status.realNow)).to.equal(DAY_MS)
  })
})
