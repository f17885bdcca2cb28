// Local files named on the command line (--file, a policy document): checked before anything is
// sent. A missing, unreadable, non-regular (a device such as /dev/zero, a directory) or oversized
// file is a usage error (exit 2) with a line saying what to give instead, never raw errno text.
import {createReadStream} from 'node:fs'
import {readFile, stat} from 'node:fs/promises'

import {usageError} from './errors.js'

/** The largest local input read (10 MiB): far above any key list or key policy (32 KB). */
export const MAX_LOCAL_FILE_BYTES = 10 * 1024 * 1024

export interface LocalFileOptions {
  /** How the user named it, for messages: "--file", "the policy file". */
  flag: string
  /** What to give instead, for the remedy: "a text file with one key ID a line". */
  what: string
  maxBytes?: number
}

const ERRNO_TEXT: Record<string, string> = {
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'the name is too long',
  ENOENT: 'no such file',
  ENOTDIR: 'a part of the path is not a directory',
  EPERM: 'permission denied',
}

function unreadable(path: string, options: LocalFileOptions, why: string) {
  return usageError(`${options.flag} ${path}: ${why}.`, `Try this: ${options.what}`)
}

/** Why a read failed, in words. */
function errnoText(error: unknown): string {
  const e = error as NodeJS.ErrnoException
  return (e.code && ERRNO_TEXT[e.code]) ?? e.code ?? e.message
}

/** The text of a local file (UTF-8), refused early when it cannot be a sensible input. */
export async function readLocalText(path: string, options: LocalFileOptions): Promise<string> {
  const max = options.maxBytes ?? MAX_LOCAL_FILE_BYTES
  let info
  try {
    info = await stat(path)
  } catch (error) {
    throw unreadable(path, options, errnoText(error))
  }

  if (info.isDirectory()) throw unreadable(path, options, 'it is a directory')
  if (info.isFIFO()) return readPipe(path, options, max)
  if (!info.isFile()) throw unreadable(path, options, 'it is not a regular file')
  if (info.size > max) throw unreadable(path, options, `it is too large (${info.size} bytes; at most ${max})`)
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    throw unreadable(path, options, errnoText(error))
  }
}

/** A named pipe (`--file <(cut -f1 keys.tsv)`): read up to the limit. */
async function readPipe(path: string, options: LocalFileOptions, max: number): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of createReadStream(path)) {
      size += (chunk as Buffer).length
      if (size > max) throw unreadable(path, options, `it is too large (more than ${max} bytes)`)
      chunks.push(chunk as Buffer)
    }
  } catch (error) {
    if ((error as {code?: string}).code === 'USAGE') throw error
    throw unreadable(path, options, errnoText(error))
  }

  return Buffer.concat(chunks).toString('utf8')
}
