// JUnit XML for CI test reports: one test suite per key, one test case per key and check. A
// finding is a failure (type = severity); a finding accepted by the baseline, or a check that
// could not tell, is a skipped case saying why; everything else passes.
import type {AuditReport} from './audit.js'
import {checkById} from './registry.js'

export function xmlEscape(s: string): string {
  // Characters XML 1.0 does not allow at all are dropped.
  // eslint-disable-next-line no-control-regex
  return s.replaceAll(/[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g, '').replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;')
}

const attr = (name: string, value: number | string) => `${name}="${xmlEscape(String(value))}"`

export function toJunit(report: AuditReport): string {
  const suites: string[] = []
  let tests = 0
  let failures = 0
  let skipped = 0
  for (const k of report.keys) {
    const cases: string[] = []
    let kFailures = 0
    let kSkipped = 0
    for (const id of report.checks) {
      const def = checkById(id)
      const found = report.findings.filter((f) => f.keyArn === k.arn && f.check === id)
      const accepted = report.suppressed.filter((f) => f.keyArn === k.arn && f.check === id)
      const notChecked = report.notChecked.find((n) => n.keyId === k.keyId && n.check === id && n.account === k.account && n.region === k.region)
      const head = `    <testcase ${attr('classname', `kmsctl.audit.${k.account === undefined ? '' : `${k.account}.${k.region}.`}${k.key}`)} ${attr('name', `${id}: ${def.title}`)} ${attr('time', 0)}`
      if (found.length > 0) {
        kFailures++
        const body = found.map((f) => `${f.message}\nFix: ${f.command ?? f.remedy}${f.baseline?.status === 'expired' ? `\nBaseline entry expired on ${f.baseline.expires}: ${f.baseline.reason}` : ''}\nFingerprint: ${f.fingerprint}`).join('\n\n')
        cases.push(`${head}>\n      <failure ${attr('message', found[0].message)} ${attr('type', def.severity)}>${xmlEscape(body)}</failure>\n    </testcase>`)
      } else if (accepted.length > 0) {
        kSkipped++
        const b = accepted[0].baseline!
        cases.push(`${head}>\n      <skipped ${attr('message', `accepted until ${b.expires}: ${b.reason}`)}/>\n    </testcase>`)
      } else if (notChecked) {
        kSkipped++
        cases.push(`${head}>\n      <skipped ${attr('message', `not checked: ${notChecked.reason}`)}/>\n    </testcase>`)
      } else {
        cases.push(`${head}/>`)
      }
    }

    tests += cases.length
    failures += kFailures
    skipped += kSkipped
    const name = k.key === k.keyId ? k.keyId : `${k.key} (${k.keyId})`
    suites.push(
      `  <testsuite ${attr('name', k.account === undefined ? name : `${k.account}/${k.region} ${name}`)} ${attr('tests', cases.length)} ${attr('failures', kFailures)} ${attr('errors', 0)} ${attr('skipped', kSkipped)} ${attr('timestamp', report.generatedAt.replace(/\.\d+Z$/, ''))}>\n${cases.join('\n')}\n  </testsuite>`,
    )
  }

  for (const f of report.failed) {
    tests++
    suites.push(
      `  <testsuite ${attr('name', f.ref)} tests="1" failures="0" errors="1" skipped="0">\n    <testcase ${attr('classname', `kmsctl.audit.${f.ref}`)} name="read" time="0">\n      <error ${attr('message', f.reason)}/>\n    </testcase>\n  </testsuite>`,
    )
  }

  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ${attr('name', 'kmsctl audit')} ${attr('tests', tests)} ${attr('failures', failures)} ${attr('errors', report.failed.length)} ${attr('skipped', skipped)}>\n${suites.join('\n')}\n</testsuites>\n`
}
