// The emulated AWS services, in the order the request core asks them whether a request is theirs.
// Adding a service is one entry here: a SandboxService (request.ts) in a folder of its own.
import {athenaService} from './athena/service.js'
import {cloudTrailService} from './cloudtrail/service.js'
import {kmsService} from './kms/service.js'
import type {SandboxService} from './request.js'
import {stsService} from './sts/service.js'

export const SERVICES: readonly SandboxService[] = [kmsService, cloudTrailService, stsService, athenaService]
