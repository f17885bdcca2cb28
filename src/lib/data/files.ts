// Where data comes from and goes to: a file or stdin ("-"), a file or stdout.
//
// A file output is written to a temporary file in the same directory (mode 0600) and renamed over
// the final path only when everything succeeded (optionally flushed to disk first); on any failure (or Ctrl-C) the
// temporary file is deleted. So the final path never holds partial or unauthenticated output.
import {randomBytes} from 'node:crypto'
import {createReadStream, createWriteStream, unlinkSync} from 'node:fs'
import {type FileHandle, open, rename, stat, unlink} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
import {Transform, type Readable, type Writable} from 'node:stream'

import {KmsctlError, usageError} from '../errors.js'

/** Read size for files: large reads keep the per-chunk overhead of the stream pipeline small. */
export const READ_CHUNK = 1024 * 1024

export interface DataInput {
  /** "-" for stdin. */
  name: string
  /** The size of a regular file (undefined for stdin and pipes). */
  size?: number
  stream(): Readable
}

export async function openInput(file: string): Promise<DataInput> {
  if (file === '-') return {name: '-', stream: () => process.stdin}
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
    size: info.isFile() ? info.size : undefined,
    stream: () => createReadStream(file, {highWaterMark: READ_CHUNK}),
  }
}

export interface DataOutput {
  /** The final path, or "-" for stdout. */
  name: string
  /** Bytes written so far. */
  readonly bytes: number
  /** The stream to write to (counts bytes). */
  stream: Writable
  /** Whether the pipeline may end the stream (false for stdout). */
  end: boolean
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

class Counter extends Transform {
  bytes = 0
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length
    callback(null, chunk)
  }
}

/**
 * Opens the output: stdout for undefined or "-", else a temporary file beside `path`. With `fsync`,
 * the temporary file is flushed to disk before the rename, so that the final path holds the whole
 * output even after a power loss (at the cost of waiting for the disk).
 */
export async function openOutput(path: string | undefined, options: {fsync?: boolean} = {}): Promise<DataOutput> {
  if (path === undefined || path === '-') {
    const counter = new Counter({highWaterMark: READ_CHUNK})
    counter.pipe(process.stdout)
    return {
      abort: async () => {},
      get bytes() {
        return counter.bytes
      },
      commit: () =>
        new Promise((resolve) => {
          // Everything the counter passed on is in stdout's buffer: wait until it is written.
          if (process.stdout.writableNeedDrain) process.stdout.once('drain', () => resolve())
          else resolve()
        }),
      end: true,
      name: '-',
      stream: counter,
    }
  }

  installSignalHandlers()
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.part`)
  let handle: FileHandle
  try {
    handle = await open(tmp, 'wx', 0o600)
  } catch (error) {
    throw usageError(`Cannot write in ${dirname(path)}: ${(error as Error).message}.`, 'Try this: another -o path, in a directory you can write to.')
  }

  pending.add(tmp)
  // The pipeline writes to the file stream directly (it counts what it wrote).
  const file = createWriteStream('', {autoClose: false, fd: handle.fd, highWaterMark: READ_CHUNK} as never)
  const finished = new Promise<void>((resolve, reject) => {
    file.once('finish', resolve)
    file.once('error', reject)
  })
  finished.catch(() => {})
  let closed = false
  const close = async () => {
    if (closed) return
    closed = true
    await handle.close().catch(() => {})
  }

  return {
    abort: async () => {
      file.destroy()
      await close()
      pending.delete(tmp)
      await unlink(tmp).catch(() => {})
    },
    get bytes() {
      return file.bytesWritten
    },
    commit: async () => {
      await finished
      if (options.fsync) await handle.sync()
      await close()
      await rename(tmp, path)
      pending.delete(tmp)
    },
    end: true,
    name: path,
    stream: file,
  }
}
