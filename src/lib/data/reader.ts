// Reading a message or a plaintext through one buffer, allocated once and reused for the whole
// input: no fresh buffer per read, so a gigabyte passes through without a gigabyte of allocations
// for the garbage collector. Views handed out (peek, take) point into that buffer and are valid
// until the next fill.
import type {ByteSource} from './files.js'

export class BufferedReader {
  /** Bytes read from the source so far. */
  bytesRead = 0
  private buffer: Buffer
  private end = 0
  private eof = false
  private readonly maxCapacity: number
  private readonly source: ByteSource
  private start = 0

  /**
   * @param capacity the buffer's size; reads fill as much of it as the source gives.
   * @param maxCapacity how far fill(n) may grow the buffer for a large n (a large message header).
   */
  constructor(source: ByteSource, capacity: number, maxCapacity = capacity) {
    this.source = source
    this.buffer = Buffer.allocUnsafe(capacity)
    this.maxCapacity = Math.max(capacity, maxCapacity)
  }

  /** Bytes buffered and not yet taken. */
  get available(): number {
    return this.end - this.start
  }

  get capacity(): number {
    return this.buffer.length
  }

  /** Whether the source has ended (what is buffered is all there is). */
  get ended(): boolean {
    return this.eof
  }

  /**
   * Reads until at least `n` bytes are buffered or the source ends; returns the bytes buffered
   * (fewer than `n` only at the end of the input). Moves the unread bytes to the front of the buffer
   * when `n` would not fit after them, and grows the buffer (up to maxCapacity) for an `n` larger
   * than it.
   */
  async fill(n: number): Promise<number> {
    if (this.available >= n || this.eof) return this.available
    if (n > this.buffer.length) {
      if (n > this.maxCapacity) throw new RangeError(`cannot buffer ${n} bytes (at most ${this.maxCapacity})`)
      const bigger = Buffer.allocUnsafe(Math.min(this.maxCapacity, Math.max(n, this.buffer.length * 2)))
      this.buffer.copy(bigger, 0, this.start, this.end)
      this.buffer = bigger
      this.end -= this.start
      this.start = 0
    } else if (this.start + n > this.buffer.length) {
      this.buffer.copyWithin(0, this.start, this.end)
      this.end -= this.start
      this.start = 0
    }

    while (this.available < n) {
      // eslint-disable-next-line no-await-in-loop
      const got = await this.source.read(this.buffer, this.end, this.buffer.length - this.end)
      if (got === 0) {
        this.eof = true
        break
      }

      this.end += got
      this.bytesRead += got
    }

    return this.available
  }

  /** The buffered bytes, without taking them. */
  peek(): Buffer {
    return this.buffer.subarray(this.start, this.end)
  }

  /** Takes `n` buffered bytes (at most what is available). */
  take(n: number): Buffer {
    const view = this.buffer.subarray(this.start, this.start + Math.min(n, this.available))
    this.start += view.length
    return view
  }
}
