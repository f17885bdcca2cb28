// How kmsctl's S3 clients are configured, shared by the main thread's client (clients.ts) and the
// clients the s3 source's worker threads build for themselves (trail/sources/s3-fetch.ts).

/**
 * Flexible checksums only where an operation requires them: no CRC request checksums, and no
 * x-amz-checksum-mode on GetObject, so bodies are not hashed a second time in JavaScript. S3 is
 * reached over TLS (integrity in transit), and the objects read are gzip files, whose own CRC-32
 * zlib checks while inflating them: a corrupt body is still an error, never silent.
 */
export const S3_CHECKSUMS = {requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED'} as const

/** The settings of an S3 client built in a worker thread (structured-clonable; credentials are asked of the main thread). */
export interface S3ThreadSettings {
  customUserAgent: Array<[string, string]>
  endpoint?: string
  forcePathStyle?: boolean
  maxAttempts: number
  region: string
}
