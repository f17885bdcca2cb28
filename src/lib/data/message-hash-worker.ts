// The thread that hashes a signed message (signature-thread.ts): it receives the message's bytes in
// order through slots of a shared buffer, feeds them to an ECDSA signer or verifier, and at the end
// answers with the signature (encrypt) or whether the trailer's signature verifies (decrypt).
import {type KeyObject, type Sign, type Verify, createSign, createVerify} from 'node:crypto'
import {parentPort} from 'node:worker_threads'

import type {HashThreadAnswer, HashThreadMessage} from './signature-thread.js'

const port = parentPort!
let ring: Uint8Array | undefined
let slotSize = 0
let key: KeyObject | undefined
let sign: Sign | undefined
let verify: Verify | undefined

function answer(message: HashThreadAnswer): void {
  port.postMessage(message)
}

port.on('message', (message: HashThreadMessage) => {
  try {
    if ('start' in message) {
      const s = message.start
      ring = new Uint8Array(s.ring)
      slotSize = s.slotSize
      key = s.key
      if (s.mode === 'sign') sign = createSign(s.hash)
      else verify = createVerify(s.hash)
    } else if ('slot' in message) {
      const at = message.slot * slotSize
      ;(sign ?? verify)!.update(ring!.subarray(at, at + message.length))
      answer({done: message.slot})
    } else if (sign) {
      const signature = sign.sign(key!)
      answer({signature: new Uint8Array(signature.buffer, signature.byteOffset, signature.byteLength)})
    } else {
      let verified: boolean
      try {
        verified = verify!.verify(key!, message.end.signature!)
      } catch {
        // A signature that does not even parse (not DER) is one that does not verify.
        verified = false
      }

      answer({verified})
    }
  } catch (error) {
    answer({error: (error as Error)?.message ?? String(error)})
  }
})

answer({ready: true})
