// Grant checks: grants to other accounts, grants to principals that no longer exist, and keys
// near the 50,000 grants a key can have.
import {GRANTS_PER_KEY_QUOTA, type RawFinding} from '../types.js'
import {type CheckFn, UNIQUE_ID, missing, principalAccount} from './check.js'

const grantCrossAccount: CheckFn = (k, o) => {
  const why = missing(k, 'ListGrants', k.grants)
  if (why) return why
  const trusted = new Set([k.account, ...o.trustedAccounts])
  const out: RawFinding[] = []
  for (const g of k.grants!) {
    const grantee = g.granteePrincipal ?? ''
    const account = principalAccount(grantee)
    if (!account || trusted.has(account)) continue
    out.push({
      check: 'grant-cross-account',
      evidence: {account, grantId: g.grantId, grantee, name: g.name, operations: g.operations},
      grant: g.grantId,
      message: `Grant ${g.name ? `"${g.name}" ` : ''}${g.grantId.slice(0, 12)}... gives ${g.operations.join(', ')} to ${grantee} of account ${account}.`,
      subject: g.grantId,
    })
  }

  return out
}

const grantDeletedPrincipal: CheckFn = (k) => {
  const why = missing(k, 'ListGrants', k.grants)
  if (why) return why
  return k.grants!
    .filter((g) => UNIQUE_ID.test(g.granteePrincipal ?? ''))
    .map((g) => ({
      check: 'grant-deleted-principal',
      evidence: {grantId: g.grantId, grantee: g.granteePrincipal, name: g.name},
      grant: g.grantId,
      message: `Grant ${g.grantId.slice(0, 12)}... is for ${g.granteePrincipal}, a unique ID: its principal was deleted.`,
      subject: g.grantId,
    }))
}

const grantsNearQuota: CheckFn = (k, o) => {
  const why = missing(k, 'ListGrants', k.grants)
  if (why) return why
  const n = k.grants!.length
  if (n < o.grantThreshold) return []
  return [
    {
      check: 'grants-near-quota',
      evidence: {grants: n, quota: GRANTS_PER_KEY_QUOTA, threshold: o.grantThreshold},
      message: `${n.toLocaleString('en-US')} grants, ${Math.round((100 * n) / GRANTS_PER_KEY_QUOTA)}% of the ${GRANTS_PER_KEY_QUOTA.toLocaleString('en-US')} a key can have.`,
    },
  ]
}

export const grantChecks: Record<string, CheckFn> = {
  'grant-cross-account': grantCrossAccount,
  'grant-deleted-principal': grantDeletedPrincipal,
  'grants-near-quota': grantsNearQuota,
}
