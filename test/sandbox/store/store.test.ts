import {ListKeysCommand} from '@aws-sdk/client-kms'
import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {KmsctlError} from '../../../src/lib/errors.js'
import {SandboxStore} from '../../../src/sandbox/store/store.js'
import {newSandbox} from '../helpers.js'

const writer = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'writer.ts')

function runWriter(dir: string, count: number, tag: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', '--no-warnings', writer, dir, String(count), tag], {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('ready')) resolve()
    })
  })
  const exit = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => resolve(code))
  })
  return {child, exit, ready, stderr: () => stderr}
}

async function allKeys(dir: string) {
  const sb = await newSandbox(dir)
  const ids: string[] = []
  let Marker: string | undefined
  do {
    const out = await sb.kms.send(new ListKeysCommand({Limit: 1000, Marker}))
    ids.push(...out.Keys!.map((k) => k.KeyId!))
    Marker = out.NextMarker
  } while (Marker)
  return ids
}

describe('sandbox state directory', () => {
  it('two processes writing one directory at once lose no update', async function () {
    this.timeout(120_000)
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-sbx-conc-'))
    const a = runWriter(dir, 40, 'a')
    const b = runWriter(dir, 40, 'b')
    const [ca, cb] = await Promise.all([a.exit, b.exit])
    expect(ca, a.stderr()).to.equal(0)
    expect(cb, b.stderr()).to.equal(0)
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))
    const tags = Object.values(state.keys).map((k: any) => k.tags[0].TagValue)
    expect(tags.filter((t) => t === 'a')).to.have.length(40)
    expect(tags.filter((t) => t === 'b')).to.have.length(40)
    expect(await allKeys(dir)).to.have.length(80)
    // Every call of both processes was recorded.
    expect(new SandboxStore(dir).readEvents().filter((e) => e.eventName === 'CreateKey')).to.have.length(80)
  })

  it('a process killed (SIGKILL) mid-write leaves the previous state readable, and the lock is taken over', async function () {
    this.timeout(120_000)
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-sbx-kill-'))
    for (const delay of [150, 400, 900]) {
      const w = runWriter(dir, 0, 'k')
      await w.ready
      // Kill it while it is writing: once its first write has landed, after a varying delay.
      for (let i = 0; i < 400 && !existsSync(join(dir, 'state.json')); i++) await new Promise((r) => setTimeout(r, 50))
      await new Promise((r) => setTimeout(r, delay))
      w.child.kill('SIGKILL')
      await w.exit
      // The state file always parses: atomic rename, never a torn file.
      const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'))
      expect(state.version).to.equal(1)
      expect(await allKeys(dir)).to.have.length(Object.keys(state.keys).length)
    }

    // A later writer gets the (possibly stale) lock and carries on.
    const before = (await allKeys(dir)).length
    const next = runWriter(dir, 3, 'after')
    expect(await next.exit, next.stderr()).to.equal(0)
    expect(await allKeys(dir)).to.have.length(before + 3)
  })

  it('skips a CloudTrail line torn by a crash, and keeps the records after it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-sbx-torn-'))
    const store = new SandboxStore(dir)
    store.appendEvents([{eventName: 'A', eventTime: '2026-01-01T00:00:00Z'}])
    appendFileSync(join(dir, 'events.jsonl'), '\n{"eventName":"Tor')
    store.appendEvents([{eventName: 'B', eventTime: '2026-01-01T00:00:01Z'}])
    expect(new SandboxStore(dir).readEvents().map((e) => e.eventName)).to.deep.equal(['A', 'B'])
    // Incremental reads see later appends.
    store.appendEvents([{eventName: 'C', eventTime: '2026-01-01T00:00:02Z'}])
    expect(store.readEvents().map((e) => e.eventName)).to.deep.equal(['A', 'B', 'C'])
  })

  it('reloads state written by another process, and refuses a file that is not sandbox state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-sbx-reload-'))
    const one = new SandboxStore(dir)
    const two = new SandboxStore(dir)
    expect(Object.keys(one.read().keys)).to.have.length(0)
    await two.mutate((s) => {
      s.clockOffsetMs = 42
    })
    expect(one.read().clockOffsetMs).to.equal(42)
    writeFileSync(join(dir, 'state.json'), '{"hello": 1}')
    // Files are stat'ed once per turn of the event loop: another process's write is seen from the next one.
    await new Promise<void>((resolve) => {
      setImmediate(resolve)
    })
    expect(() => one.read()).to.throw(/not a kmsctl sandbox state/)
  })

  it('a failed mutation writes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kmsctl-sbx-fail-'))
    const store = new SandboxStore(dir)
    await store.mutate((s) => {
      s.clockOffsetMs = 1
    })
    await store
      .mutate((s) => {
        s.clockOffsetMs = 2
        throw new Error('boom')
      })
      .catch(() => {})
    expect(new SandboxStore(dir).read().clockOffsetMs).to.equal(1)
    expect(store.read().clockOffsetMs).to.equal(1)
  })
})

describe('sandbox directory that cannot be one', () => {
  it('is a usage error naming the path and why, not errno text', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kmsctl-store-file-')), 'plain')
    writeFileSync(file, 'x')
    const refusal = (dir: string) => {
      try {
        new SandboxStore(dir)
      } catch (error) {
        return error as KmsctlError
      }

      throw new Error('no error')
    }

    const onFile = refusal(file)
    expect(onFile).to.be.instanceOf(KmsctlError)
    expect(onFile.exitCode).to.equal(2)
    expect(onFile.message).to.equal(`The sandbox directory (--sandbox-dir) ${file} cannot be used: it is a file, not a directory.`)
    expect(refusal(join(file, 'sub')).message).to.equal(`The sandbox directory (--sandbox-dir) ${join(file, 'sub')} cannot be used: a part of the path is not a directory.`)
  })
})
