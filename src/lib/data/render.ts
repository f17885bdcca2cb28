// Human rendering of message headers and results for the data commands.
import {formatPairs, renderFields} from '../output.js'
import type {MessageSizes} from './inspect.js'
import {type HeaderSummary, printable} from './message.js'

export function formatBytes(n: number | undefined): string | undefined {
  if (n === undefined) return undefined
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }

  return `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]} (${n} bytes)`
}

/** "2.9 MiB" (or "12 B"): for one-line notes. */
export function shortBytes(n: number): string {
  return formatBytes(n)!.replace(/ \(\d+ bytes\)$/, '')
}

export function renderHeader(h: HeaderSummary, sizes?: MessageSizes): string {
  const context = Object.keys(h.encryptionContext).length > 0 ? formatPairs(h.encryptionContext) : '(none)'
  return renderFields([
    ['Message ID', h.messageId],
    ['Algorithm', `${h.algorithm.name} (${h.algorithm.hex})`],
    ['Commitment', h.algorithm.committing ? 'yes (key commitment)' : 'NO (legacy suite without key commitment)'],
    ['Signed', h.algorithm.signed ? 'yes (ECDSA P-384 over the whole message)' : 'no'],
    ['Data keys', h.encryptedDataKeys.map((k) => printable(k.provider === 'aws-kms' ? k.keyArn : `${k.provider}: ${k.keyArn}`)).join('\n')],
    ['Context', printable(context)],
    ['Content', h.contentType === 'framed' ? `framed, frame length ${formatBytes(h.frameLength)}` : 'non-framed'],
    ['Frames', sizes?.frames === undefined ? undefined : String(sizes.frames)],
    ['Plaintext', formatBytes(sizes?.plaintext)],
    ['Message', formatBytes(sizes?.total)],
    ['Header', formatBytes(sizes?.header)],
    ['Body', formatBytes(sizes?.body)],
    ['Trailer', sizes?.trailer === undefined ? undefined : formatBytes(sizes.trailer)],
  ])
}
