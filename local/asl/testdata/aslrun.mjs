// Differential-test runner: executes state machine cases with the npm package
// aws-local-stepfunctions (pinned in the root package.json) and prints the
// results as JSON, for comparison with the Go interpreter in
// local/statemachine (see differential_test.go).
//
// stdin: JSON array of cases
//   { "name": "...", "definition": {...}, "input": <json>,
//     "tasks": { "<Task state name>": [ <outcome>, ... ] } }
// where an outcome (one per attempt; the last one repeats) is
//   { "result": <json> } | { "echo": true } | { "error": "Name", "cause": "text" }
//   | { "byInput": true } (input with a string "error" field: fail with it and
//   its "cause"; otherwise echo — the same in any order of Map iterations)
// stdout: JSON array of { "name", "status", "output", "error", "cause" }
// status is SUCCEEDED | FAILED | TIMED_OUT | INVALID (definition rejected).
import { createRequire } from 'node:module';
import { StateMachine, ExecutionError, ExecutionTimeoutError } from 'aws-local-stepfunctions';

// Speed-up, test-only: asl-validator (used by aws-local-stepfunctions to
// validate every definition) builds and compiles a fresh Ajv JSON-schema
// validator per call (~0.2 s). All calls here use the same options, so reuse
// one Ajv instance; validation results are unchanged. Falls back to the
// stock behaviour if the module layout differs.
try {
  const requireFromLib = createRequire(createRequire(import.meta.url).resolve('aws-local-stepfunctions'));
  const requireFromValidator = createRequire(requireFromLib.resolve('asl-validator'));
  const ajvModule = requireFromValidator('ajv');
  const OriginalAjv = ajvModule.default;
  let shared = null;
  ajvModule.default = function SharedAjv(opts) {
    if (shared === null) {
      shared = new OriginalAjv(opts);
      // ajv-formats re-adds its keywords on every call; skip duplicates.
      const addKeyword = shared.addKeyword.bind(shared);
      shared.addKeyword = (kwd, def) => {
        const name = typeof kwd === 'string' ? kwd : kwd?.keyword;
        const names = Array.isArray(name) ? name : [name];
        if (names.every((n) => typeof n === 'string' && shared.getKeyword(n))) return shared;
        return addKeyword(kwd, def);
      };
    }
    return shared;
  };
} catch {
  // keep the uncached validator
}

// aws-local-stepfunctions 3.0.0 uses Promise.withResolvers (Node >= 22);
// polyfill it so the runner works on Node 20 too.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    return { promise, resolve, reject };
  };
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

function outcomeHandler(outcomes) {
  let attempt = 0;
  return async (input) => {
    const o = outcomes[Math.min(attempt, outcomes.length - 1)];
    attempt++;
    if (o.byInput) {
      if (input !== null && typeof input === 'object' && typeof input.error === 'string') {
        const e = new Error(input.cause ?? '');
        e.name = input.error;
        throw e;
      }
      return input;
    }
    if (o.error !== undefined) {
      const e = new Error(o.cause ?? '');
      e.name = o.error;
      throw e;
    }
    if (o.echo) return input;
    return o.result ?? null;
  };
}

async function runCase(c) {
  let sm;
  try {
    sm = new StateMachine(c.definition, { validationOptions: { checkArn: false } });
  } catch (e) {
    return { name: c.name, status: 'INVALID', output: null, error: 'Invalid', cause: String(e.message) };
  }
  const taskResourceLocalHandlers = {};
  const retryIntervalOverrides = {};
  const waitTimeOverrides = {};
  // Overrides go by state name, also for the states of Map iterations
  // (names are unique in the whole machine).
  const visit = (states) => {
    for (const [name, st] of Object.entries(states ?? {})) {
      if (st.Type === 'Task') taskResourceLocalHandlers[name] = outcomeHandler(c.tasks?.[name] ?? [{ echo: true }]);
      if (st.Retry) retryIntervalOverrides[name] = 0;
      if (st.Type === 'Wait') waitTimeOverrides[name] = 0;
      if (st.Type === 'Map') visit((st.ItemProcessor ?? st.Iterator)?.States);
    }
  };
  visit(c.definition.States);
  try {
    // aws-local-stepfunctions has no $$.Task.Token of its own: a definition
    // that passes it to its tasks (edge-drop's run states) gets a fixed one.
    const context = JSON.stringify(c.definition).includes('$$.Task.Token') ? { context: { Task: { Token: 'differential-token' } } } : {};
    const exec = sm.run(c.input, { ...context, overrides: { taskResourceLocalHandlers, retryIntervalOverrides, waitTimeOverrides } });
    const output = await exec.result;
    return { name: c.name, status: 'SUCCEEDED', output: output ?? null, error: '', cause: '' };
  } catch (e) {
    if (e instanceof ExecutionTimeoutError) {
      return { name: c.name, status: 'TIMED_OUT', output: null, error: 'States.Timeout', cause: '' };
    }
    if (e instanceof ExecutionError && e.cause) {
      return { name: c.name, status: 'FAILED', output: null, error: String(e.cause.name ?? ''), cause: String(e.cause.message ?? '') };
    }
    return { name: c.name, status: 'FAILED', output: null, error: String(e.name), cause: String(e.message) };
  }
}

const cases = JSON.parse(await readStdin());
const results = [];
for (const c of cases) results.push(await runCase(c));
process.stdout.write(JSON.stringify(results));
