#!/usr/bin/env node
import {execute} from '../dist/kmsctl.js'

await execute({dir: import.meta.url})
