// The signature of signed suites (ECDSA P-384 over SHA-384 of the whole message) computed in a
// worker thread, beside AES-GCM in the main thread: the hash costs about as much CPU as the
// encryption, so on two cores the two run side by side instead of one after the other.
//
// The main thread copies the message bytes, in order, into the slots of a shared ring buffer and
// tells the thread which slot to hash next; the thread answers when a slot is free again. The ring
// bounds memory: when it is full, bytes wait in a queue that the caller drains (ready()) before it
// produces more, so at most the ring and one frame are in flight. The key is handed to the thread
// as a KeyObject (it stays in this process and is never printed). The thread is terminated when the
// message is done or failed; on Ctrl-C the process exits, and the thread with it.
import type {KeyObject} from 'node:crypto'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {Worker} from 'node:worker_threads'

import {packageRoot, workerScript} from '../paths.js'

const WORKER = 'lib/data/message-hash-worker'
/** Bytes of one slot: the thread hashes a slot per message it receives. */
export const SLOT_SIZE = 1024 * 1024
/** Slots in the ring: enough that the thread never waits for the main thread's next frame. */
export const SLOTS = 8

export type HashThreadMessage =
  | {end: {signature?: Uint8Array}}
  | {length: number; slot: number}
  | {start: {hash: string; key: KeyObject; mode: 'sign' | 'verify'; ring: SharedArrayBuffer; slotSize: number}}

export type HashThreadAnswer = {done: number} | {error: string} | {ready: true} | {signature: Uint8Array} | {verified: boolean}

/** The error of a hashing thread that failed (it could not start, or stopped while hashing). */
export class HashThreadError extends Error {
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = 'HashThreadError'
  }
}

function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(workerScript(WORKER))
  // Running from the TypeScript sources (unit tests): load the worker's source through tsx.
  const ts = pathToFileURL(join(packageRoot(), 'src', `${WORKER}.ts`)).href
  return new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}) })`, {eval: true})
}

/**
 * A hashing thread for one message: open() it early (it starts while KMS is asked for the data
 * key), then begin() with the key once known; update() with the message bytes in order, await
 * ready() between frames, and end with sign() or verify(). close() always.
 */
export class HashThread {
  private current: number | undefined
  private currentLength = 0
  private failure: Error | undefined
  private readonly free: number[] = []
  private final: {reject: (e: Error) => void; resolve: (a: HashThreadAnswer) => void} | undefined
  private readonly online: Promise<boolean>
  private readonly overflow: Uint8Array[] = []
  private readonly ring = new SharedArrayBuffer(SLOTS * SLOT_SIZE)
  private readonly view = new Uint8Array(this.ring)
  private waiting: Array<{reject: (e: Error) => void; resolve: () => void}> = []
  private readonly worker: Worker

  private constructor(worker: Worker) {
    this.worker = worker
    for (let i = 0; i < SLOTS; i++) this.free.push(i)
    // Up once its script has loaded and says so (a script that fails to load never does).
    this.online = new Promise((resolve) => {
      worker.once('message', (answer: HashThreadAnswer) => resolve('ready' in answer))
      worker.once('error', () => resolve(false))
      worker.once('exit', () => resolve(false))
    })
    worker.on('message', (answer: HashThreadAnswer) => this.answer(answer))
    worker.on('error', (error) => this.fail(new HashThreadError(`the signature thread failed: ${error.message}`, {cause: error})))
    worker.on('exit', (code) => this.fail(new HashThreadError(`the signature thread stopped (exit code ${code})`)))
  }

  /** Starts a thread; undefined when none can be created (the caller hashes in the main thread). */
  static open(start: () => Worker = startWorker): HashThread | undefined {
    try {
      return new HashThread(start())
    } catch {
      return undefined
    }
  }

  /** Gives the thread its key; false when the thread did not come up (nothing was fed to it yet). */
  async begin(mode: 'sign' | 'verify', hash: string, key: KeyObject): Promise<boolean> {
    if (!(await this.online) || this.failure) return false
    this.post({start: {hash, key, mode, ring: this.ring, slotSize: SLOT_SIZE}})
    return true
  }

  /** Stops the thread (idempotent). */
  async close(): Promise<void> {
    this.fail(new HashThreadError('the signature thread was closed'))
    await this.worker.terminate().catch(() => {})
  }

  /**
   * Resolves once every byte given to update() is in the ring and half the ring is free again, so
   * that the next frame (of up to half the ring) is copied straight in, not queued (rejects if the
   * thread failed).
   */
  ready(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.roomy()) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiting.push({reject, resolve}))
  }

  /** The DER signature of everything given to update() (as the Encryption SDK's signer returns it). */
  async sign(): Promise<Buffer> {
    const answer = await this.end({})
    if (!('signature' in answer)) throw new HashThreadError('the signature thread gave no signature')
    return Buffer.from(answer.signature.buffer, answer.signature.byteOffset, answer.signature.byteLength)
  }

  /** Adds message bytes (copied: the caller may reuse `data` at once). */
  update(data: Uint8Array): void {
    if (this.failure) throw this.failure
    if (this.overflow.length > 0) {
      this.overflow.push(Uint8Array.prototype.slice.call(data))
      return
    }

    const rest = this.copyIn(data)
    if (rest) this.overflow.push(Uint8Array.prototype.slice.call(rest))
  }

  /** Whether the signature verifies over everything given to update(). */
  async verify(signature: Uint8Array): Promise<boolean> {
    const answer = await this.end({signature})
    if (!('verified' in answer)) throw new HashThreadError('the signature thread gave no verdict')
    return answer.verified
  }

  private answer(answer: HashThreadAnswer): void {
    if ('ready' in answer) return
    if ('done' in answer) {
      this.free.push(answer.done)
      this.drain()
      return
    }

    if ('error' in answer) {
      this.fail(new HashThreadError(`the signature thread failed: ${answer.error}`))
      return
    }

    const final = this.final
    this.final = undefined
    final?.resolve(answer)
  }

  /** Copies as much of `data` into free slots as fit; returns what did not fit. */
  private copyIn(data: Uint8Array): Uint8Array | undefined {
    let at = 0
    while (at < data.byteLength) {
      if (this.current === undefined) {
        if (this.free.length === 0) return data.subarray(at)
        this.current = this.free.shift()!
        this.currentLength = 0
      }

      const n = Math.min(data.byteLength - at, SLOT_SIZE - this.currentLength)
      this.view.set(data.subarray(at, at + n), this.current * SLOT_SIZE + this.currentLength)
      this.currentLength += n
      at += n
      if (this.currentLength === SLOT_SIZE) this.send()
    }

    return undefined
  }

  private drain(): void {
    while (this.overflow.length > 0) {
      const rest = this.copyIn(this.overflow[0])
      if (rest) {
        this.overflow[0] = rest
        return
      }

      this.overflow.shift()
    }

    if (this.roomy()) for (const w of this.waiting.splice(0)) w.resolve()
  }

  private roomy(): boolean {
    return this.overflow.length === 0 && this.free.length >= SLOTS / 2
  }

  private async end(end: {signature?: Uint8Array}): Promise<HashThreadAnswer> {
    await this.ready()
    if (this.current !== undefined) this.send()
    return new Promise((resolve, reject) => {
      this.final = {reject, resolve}
      this.post({end})
    })
  }

  private fail(error: Error): void {
    if (this.failure) return
    this.failure = error
    for (const w of this.waiting.splice(0)) w.reject(error)
    this.final?.reject(error)
    this.final = undefined
  }

  private post(message: HashThreadMessage): void {
    if (this.failure) throw this.failure
    this.worker.postMessage(message)
  }

  /** Hands the slot being filled to the thread. */
  private send(): void {
    const slot = this.current!
    this.current = undefined
    if (this.currentLength > 0) this.post({length: this.currentLength, slot})
    else this.free.unshift(slot)
    this.currentLength = 0
  }
}
