// Buffers used again from one body to the next (an S3 object downloaded by a scanning thread, an
// object the sandbox's S3 sends). A fresh buffer of a few hundred KB costs a page fault for each 4 KB
// page as it is first written, and a collection later; a body read into a reused one costs neither.

export class BufferPool {
  private readonly free: Buffer[] = []
  private kept = 0
  /** The memory this pool allocated: nothing else is ever taken in (a small Buffer may share Node's own slab). */
  private readonly mine = new WeakSet<ArrayBufferLike>()

  /** Keeps at most `maxBytes` of buffers that are not in use. */
  constructor(private readonly maxBytes: number) {}

  /** A buffer of exactly `length` bytes: a view on a free one large enough, else a new one. */
  take(length: number): Buffer {
    const i = this.free.findIndex((b) => b.length >= length)
    if (i === -1) {
      const fresh = Buffer.allocUnsafeSlow(length)
      this.mine.add(fresh.buffer)
      return fresh
    }

    const [b] = this.free.splice(i, 1)
    this.kept -= b.length
    return b.length === length ? b : b.subarray(0, length)
  }

  /** Gives back a buffer from take() that nothing uses any more (the whole of it, when it was a view). */
  give(buffer: Buffer): void {
    if (!this.mine.has(buffer.buffer)) return
    const whole = Buffer.from(buffer.buffer, 0, buffer.buffer.byteLength)
    if (this.kept + whole.length > this.maxBytes || this.free.some((b) => b.buffer === whole.buffer)) return
    this.free.push(whole)
    this.kept += whole.length
  }
}
