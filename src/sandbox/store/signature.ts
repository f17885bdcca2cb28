// Which version of a file is on disk (inode, size, mtime), for the files the sandbox re-reads only
// when they change (state, settings, organisation, principals). Each request used to stat every one
// of them; now a file is stat'ed once per turn of the event loop, and every request served in that
// turn shares the answer. A change made by another process is seen from the next turn on; a change
// made here goes through writeAtomic(), which forgets the file's signature at once.
import {statSync} from 'node:fs'

const signatures = new Map<string, string>()
let clearScheduled = false

/** "ino:size:mtimeMs" of the file, or "none" when it does not exist; stat'ed at most once per turn. */
export function fileSignature(path: string): string {
  let signature = signatures.get(path)
  if (signature === undefined) {
    const st = statSync(path, {throwIfNoEntry: false})
    signature = st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'none'
    signatures.set(path, signature)
    if (!clearScheduled) {
      clearScheduled = true
      setImmediate(() => {
        signatures.clear()
        clearScheduled = false
      }).unref()
    }
  }

  return signature
}

/** The file was just written or removed here: its next signature is stat'ed afresh. */
export function forgetSignature(path: string): void {
  signatures.delete(path)
}
