// Where data comes from and goes to: a file or stdin ("-"), a file or stdout.
//
// A file output is written to a temporary file in the same directory (mode 0600) and renamed over
// the final path only when everything succeeded (optionally flushed to disk first); on any failure (or Ctrl-C) the
// temporary file is deleted. So the final path never holds partial or unauthenticated output.
//
// Inputs are read into a buffer the reader owns (ByteSource), outputs take lists of chunks written
// in few system calls: no stream objects between the data and the cryptography.
import {randomBytes} from 'node:crypto'
import {createReadStream, readSync, unlinkSync, writevSync} from 'node:fs'
import {type FileHandle, open, rename, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import type {Readable} from 'node:stream'

import {KmsctlError, usageError} from '../errors.js'

/** Read size for files: large reads keep the per-chunk overhead small. */
export const READ_CHUNK = 1024 * 1024

/** Bytes read into a buffer the caller owns (and reuses): no fresh buffer per read. */
export interface ByteSource {
  /** Reads up to `length` bytes into `buffer` at `offset`; 0 at the end of the input. */
  read(buffer: Buffer, offset: number, length: number): Promise<number>
  close(): Promise<void>
}

export interface DataInput {
  /** "-" for stdin. */
  name: string
  /** The size of a regular file (undefined for stdin and pipes). */
  size?: number
  stream(): Readable
  open(): Promise<ByteSource>
}

/** A ByteSource over a stream (stdin, a pipe): each chunk the stream yields is copied out as asked. */
export function streamSource(stream: Readable): ByteSource {
  const chunks = stream[Symbol.asyncIterator]()
  let pending: Buffer = Buffer.alloc(0)
  return {
    async close() {
      await chunks.return?.()
    },
    async read(buffer, offset, length) {
      if (pending.length === 0) {
        const next = await chunks.next()
        if (next.done) return 0
        pending = typeof next.value === 'string' ? Buffer.from(next.value) : (next.value as Buffer)
      }

      const n = pending.copy(buffer, offset, 0, Math.min(length, pending.length))
      pending = pending.subarray(n)
      return n
    },
  }
}

/**
 * A ByteSource over a file. A regular file is read synchronously, as the outputs are written: a read
 * from a local file is in effect a copy out of the page cache, and handing each one to the thread
 * pool left the process idle between reads for about a third of a 1 GiB encrypt. Pipes and devices
 * named by path are read asynchronously, since they may block.
 */
async function fileSource(path: string, regular: boolean): Promise<ByteSource> {
  const fh = await open(path, 'r')
  if (regular) {
    return {
      close: () => fh.close(),
      read: async (buffer, offset, length) => readSync(fh.fd, buffer, offset, length, null),
    }
  }

  return {
    close: () => fh.close(),
    read: async (buffer, offset, length) => (await fh.read(buffer, offset, length, null)).bytesRead,
  }
}

export async function openInput(file: string): Promise<DataInput> {
  if (file === '-') return {name: '-', open: async () => streamSource(process.stdin), stream: () => process.stdin}
  let info
  try {
    info = await stat(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw usageError(`Cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}.`, 'Try this: check the path, or give - to read stdin.')
  }

  if (info.isDirectory()) throw usageError(`${file} is a directory.`, 'Try this: give a file, or - to read stdin.')
  return {
    name: file,
    open: () => fileSource(file, info.isFile()),
    size: info.isFile() ? info.size : undefined,
    stream: () => createReadStream(file, {highWaterMark: READ_CHUNK}),
  }
}

export interface DataOutput {
  /** The final path, or "-" for stdout. */
  name: string
  /** Bytes written so far. */
  readonly bytes: number
  /** Whether what is written goes to a temporary file (renamed at commit), not where the user reads it. */
  readonly temporary: boolean
  /** Writes the chunks in order (one system call where it can); resolves once they are written. */
  write(chunks: readonly Uint8Array[]): Promise<void>
  /** Makes the output final: flush and rename (a file), nothing for stdout. */
  commit(): Promise<void>
  /** Removes the temporary file (a file); nothing for stdout. Safe to call twice. */
  abort(): Promise<void>
}

/** Paths of temporary files not yet committed, removed if the process is interrupted. */
const pending = new Set<string>()
let signalHandlers = false

function removePendingSync(): void {
  for (const p of pending) {
    try {
      unlinkSync(p)
    } catch {
      // Already gone.
    }
  }

  pending.clear()
}

function installSignalHandlers(): void {
  if (signalHandlers) return
  signalHandlers = true
  process.once('exit', removePendingSync)
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      removePendingSync()
      process.exit(signal === 'SIGINT' ? 130 : 143)
    })
  }
}

/** Checks an output path before anything is sent to KMS: refuses to overwrite unless forced. */
export async function checkOutputPath(path: string | undefined, options: {force?: boolean; input?: string}): Promise<void> {
  if (path === undefined || path === '-') return
  if (options.input && options.input !== '-' && path === options.input) {
    throw usageError(`-o ${path} is the input file.`, 'Try this: write to another path.')
  }

  try {
    const info = await stat(path)
    if (info.isDirectory()) throw usageError(`-o ${path} is a directory.`, 'Try this: -o DIR/NAME')
    if (!options.force) throw usageError(`${path} already exists.`, 'Try this: --force to replace it, or another -o path.')
  } catch (error) {
    if (error instanceof KmsctlError) throw error
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw usageError(`Cannot write ${path}: ${(error as Error).message}.`)
  }
}

/**
 * Opens the output: stdout for undefined or "-", else a temporary file beside `path`. With `fsync`,
 * the temporary file is flushed to disk before the rename, so that the final path holds the whole
 * output even after a power loss (at the cost of waiting for the disk).
 */
export async function openOutput(path: string | undefined, options: {fsync?: boolean} = {}): Promise<DataOutput> {
  if (path === undefined || path === '-') return stdoutOutput()
  installSignalHandlers()
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.part`)
  let handle: FileHandle
  try {
    handle = await open(tmp, 'wx', 0o600)
  } catch (error) {
    throw usageError(`Cannot write in ${dirname(path)}: ${(error as Error).message}.`, 'Try this: another -o path, in a directory you can write to.')
  }

  pending.add(tmp)
  let bytes = 0
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await handle.close().catch(() => {})
  }

  return {
    abort: async () => {
      await close()
      pending.delete(tmp)
      await unlink(tmp).catch(() => {})
    },
    get bytes() {
      return bytes
    },
    commit: async () => {
      if (options.fsync) await handle.sync()
      await close()
      await rename(tmp, path)
      pending.delete(tmp)
    },
    name: path,
    temporary: true,
    async write(chunks) {
      bytes += writeAll(handle.fd, chunks)
    },
  }
}

/**
 * The most bytes handed to one write(2): measured, a 4 MiB writev into the page cache costs several
 * times the system time of the same bytes in 512 KiB writes.
 */
export const MAX_WRITE = 512 * 1024

/**
 * Writes the chunks in order, in system calls of at most MAX_WRITE bytes (small chunks gathered into
 * one writev). Synchronous, as writes to a local file are in effect: it spares a thread-pool round
 * trip per write. Returns the bytes written.
 */
export function writeAll(fd: number, chunks: readonly Uint8Array[]): number {
  let total = 0
  let group: Uint8Array[] = []
  let groupBytes = 0
  const flush = () => {
    let rest = group
    while (rest.length > 0) {
      // writev may write less than asked: carry on from where it stopped.
      let written = writevSync(fd, rest as NodeJS.ArrayBufferView[])
      total += written
      while (rest.length > 0 && written >= rest[0].byteLength) {
        written -= rest[0].byteLength
        rest = rest.slice(1)
      }

      if (written > 0) rest = [rest[0].subarray(written), ...rest.slice(1)]
    }

    group = []
    groupBytes = 0
  }

  for (const chunk of chunks) {
    for (let at = 0; at < chunk.byteLength; ) {
      const piece = chunk.subarray(at, at + MAX_WRITE - groupBytes)
      group.push(piece)
      groupBytes += piece.byteLength
      at += piece.byteLength
      if (groupBytes >= MAX_WRITE) flush()
    }
  }

  if (groupBytes > 0) flush()
  return total
}

/** stdout: each write resolves once stdout has taken the chunks (back-pressure from a slow reader). */
function stdoutOutput(): DataOutput {
  let bytes = 0
  let failure: Error | undefined
  process.stdout.on('error', (error) => {
    failure ??= error
  })
  return {
    abort: async () => {},
    get bytes() {
      return bytes
    },
    commit: async () => {
      if (failure) throw failure
    },
    name: '-',
    temporary: false,
    async write(chunks) {
      if (failure) throw failure
      if (chunks.length === 0) return
      const out = process.stdout
      if (chunks.length > 1) out.cork()
      const written = chunks.map(
        (chunk) =>
          new Promise<void>((resolve, reject) => {
            bytes += chunk.byteLength
            out.write(chunk, (error) => (error ? reject(error) : resolve()))
          }),
      )
      if (chunks.length > 1) out.uncork()
      await Promise.all(written)
    },
  }
}
