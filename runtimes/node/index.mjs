// The nerd platform's runtime client for Lambda's nodejs18.x, nodejs20.x
// and nodejs22.x runtimes.
//
// nerd runs it as `NODE index.mjs` (/usr/bin/node unless told otherwise:
// docs/runtimes.md) in the function's CodeUri, where AWS's aws-lambda-ric
// is not installed (runtimes/node/ric.mjs runs that one).  Written for this
// project with Node's standard library only: no AWS code.  It behaves as
// AWS's aws-lambda-ric 3.x does in Lambda's managed Node.js runtimes
// (../shared/specs/apigw-rest-auth-runtimes.md §5.6, §5.7): the handler
// loaded from LAMBDA_TASK_ROOT as CommonJS or an ES module (`path/module.
// nested.fn`), async and callback handlers (callbackWaitsForEmptyEventLoop,
// context.succeed/fail/done), the context object, AWS's error documents and
// types, console patched into Lambda's log lines (AWS_LAMBDA_LOG_LEVEL,
// AWS_LAMBDA_LOG_FORMAT), and the Runtime API over one kept-alive
// connection.  Response streaming is not supported.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import util from 'node:util';

const require = createRequire(import.meta.url);

// ---- errors, as AWS's Errors.js names and writes them ----

function runtimeError(name) {
  const cls = class extends Error {};
  Object.defineProperty(cls, 'name', { value: name });
  cls.prototype.name = `Runtime.${name}`;
  return cls;
}
const ImportModuleError = runtimeError('ImportModuleError');
const HandlerNotFound = runtimeError('HandlerNotFound');
const MalformedHandlerName = runtimeError('MalformedHandlerName');
const UserCodeSyntaxError = runtimeError('UserCodeSyntaxError');
const NodeJsExit = runtimeError('NodeJsExit');
const UnhandledPromiseRejection = runtimeError('UnhandledPromiseRejection');
const NODEJS_EXIT_MESSAGE =
  'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly ' +
  'caused by a Promise that was never settled. For more information, see ' +
  'https://nodejs.org/docs/latest/api/process.html#exit-codes';
const CALLBACK_WARNING =
  'AWS Lambda plans to remove support for callback-based function handlers starting with ' +
  'Node.js 24. You will need to update this function to use an async handler to use Node.js ' +
  '24 or later. For more information and to provide feedback on this change, see ' +
  'https://github.com/aws/aws-lambda-nodejs-runtime-interface-client/issues/137. To disable ' +
  'this warning, set the AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING environment variable.';

function isErrorLike(e) {
  return e && typeof e.name === 'string' && typeof e.message === 'string' &&
    typeof e.stack === 'string' && e.name && e.message && e.stack;
}

function intoError(e) {
  return e instanceof Error ? e : new Error(e);
}

// The error document posted to the Runtime API.
function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name?.replaceAll('\x7F', '%7F'),
        errorMessage: error.message?.replaceAll('\x7F', '%7F'),
        trace: error.stack.replaceAll('\x7F', '%7F').split('\n'),
      };
    }
    return { errorType: typeof error, errorMessage: error.toString(), trace: [] };
  } catch (_e) {
    return {
      errorType: 'handled',
      errorMessage: 'callback called with Error argument, but there was a problem while ' +
        'retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(v) {
  if (!(v instanceof Error)) return v;
  const out = Object.assign({ errorType: v.name, errorMessage: v.message, code: v.code }, v);
  if (typeof v.stack === 'string') out.stack = v.stack.split('\n');
  return out;
}

function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_e) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

// ---- logs: console patched as AWS's LogPatch.js patches it ----

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');
const TENANT_ID = Symbol.for('aws.lambda.runtime.tenantId');
const LEVELS = Object.freeze({
  TRACE: { name: 'TRACE', priority: 1 },
  DEBUG: { name: 'DEBUG', priority: 2 },
  INFO: { name: 'INFO', priority: 3 },
  WARN: { name: 'WARN', priority: 4 },
  ERROR: { name: 'ERROR', priority: 5 },
  FATAL: { name: 'FATAL', priority: 6 },
});
const JSON_LOGS = process.env.AWS_LAMBDA_LOG_FORMAT?.toUpperCase() === 'JSON';

function jsonErrorReplacer(_k, value) {
  if (!(value instanceof Error)) return value;
  return Object.assign({
    errorType: value?.constructor?.name ?? 'UnknownError',
    errorMessage: value.message,
    stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
  }, value);
}

function jsonLine(level, params) {
  const out = {
    timestamp: new Date().toISOString(),
    level: level.name,
    requestId: globalThis[REQUEST_ID],
  };
  const tenant = globalThis[TENANT_ID];
  if (tenant !== undefined && tenant !== null) out.tenantId = tenant;
  if (params.length === 1) {
    out.message = params[0];
    try {
      return JSON.stringify(out, jsonErrorReplacer);
    } catch (_e) {
      out.message = util.format(out.message);
      return JSON.stringify(out);
    }
  }
  out.message = util.format(...params);
  const err = params.find((p) => p instanceof Error);
  if (err) {
    out.errorType = err?.constructor?.name ?? 'UnknownError';
    out.errorMessage = err.message;
    out.stackTrace = typeof err.stack === 'string' ? err.stack.split('\n') : [];
  }
  return JSON.stringify(out);
}

function log(level, ...params) {
  const line = JSON_LOGS ? jsonLine(level, params)
    : `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level.name}\t${util.format(...params)}`;
  process.stdout.write(line.replace(/\n/g, '\r') + '\n');
}

function patchConsole() {
  const min = LEVELS[process.env.AWS_LAMBDA_LOG_LEVEL?.toUpperCase()] ?? LEVELS.TRACE;
  const nop = () => {};
  const at = (level) => (level.priority >= min.priority
    ? (msg, ...params) => log(level, msg, ...params) : nop);
  console.trace = at(LEVELS.TRACE);
  console.debug = at(LEVELS.DEBUG);
  console.info = at(LEVELS.INFO);
  console.log = console.info;
  console.warn = at(LEVELS.WARN);
  console.error = at(LEVELS.ERROR);
  console.fatal = (msg, ...params) => log(LEVELS.FATAL, msg, ...params);
}

function logError(label, err) {
  if (JSON_LOGS) console.error(intoError(err));
  else console.error(label, toFormatted(intoError(err)));
}

// ---- the Runtime API ----

class RuntimeApi {
  constructor(address) {
    const i = address.lastIndexOf(':');
    this.host = address.slice(0, i);
    this.port = Number(address.slice(i + 1));
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  request(method, what, body, headers, done) {
    const req = http.request({
      host: this.host, port: this.port, method, agent: this.agent,
      path: `/2018-06-01/runtime/${what}`,
      headers: body === undefined ? headers : Object.assign({
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
      }, headers),
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => done(res, Buffer.concat(chunks).toString('utf8')));
    });
    req.on('error', (e) => { throw e; });
    req.end(body);
  }

  next() {
    return new Promise((resolve) => {
      this.request('GET', 'invocation/next', undefined, {}, (res, body) => {
        if (res.statusCode !== 200) {
          throw new Error(`Runtime API /next answered ${res.statusCode}: ${body}`);
        }
        resolve({ bodyJson: body, headers: res.headers });
      });
    });
  }

  postResponse(result, id, callback) {
    let body;
    try {
      body = JSON.stringify(result === undefined ? null : result);
    } catch (_e) {
      throw new Error('Unable to stringify response body');
    }
    this.request('POST', `invocation/${encodeURIComponent(id)}/response`, body, {},
      () => callback());
  }

  postError(error, id, callback) {
    const body = JSON.stringify(toRapidResponse(error));
    this.request('POST', `invocation/${encodeURIComponent(id)}/error`, body, {},
      () => callback());
  }

  postInitError(error, callback) {
    const doc = toRapidResponse(error);
    this.request('POST', 'init/error', JSON.stringify(doc),
      { 'Lambda-Runtime-Function-Error-Type': doc.errorType }, () => callback());
  }
}

// ---- the handler: as AWS's UserFunction.js finds and loads it ----

function packageSaysModule(folder) {
  for (;;) {
    if (folder.endsWith('/node_modules')) return false;
    const pj = path.join(folder, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        return JSON.parse(fs.readFileSync(pj)).type === 'module';
      } catch (e) {
        console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
        return false;
      }
    }
    if (folder === '/') return false;
    folder = path.resolve(folder, '..');
  }
}

function tryRequire(file) {
  return fs.existsSync(file) ? require(file) : undefined;
}

async function tryImport(file) {
  return fs.existsSync(file) ? await import(file) : undefined;
}

async function loadModule(appRoot, moduleRoot, module) {
  const p = path.resolve(appRoot, moduleRoot, module);
  const extensionless = tryRequire(p);
  if (extensionless) return extensionless;
  const esm = fs.existsSync(p + '.js') && packageSaysModule(path.dirname(p + '.js'));
  if (!esm) {
    const cjs = tryRequire(p + '.js');
    if (cjs) return cjs;
  }
  const loaded = (esm && (await tryImport(p + '.js'))) || (await tryImport(p + '.mjs')) ||
    tryRequire(p + '.cjs');
  if (loaded) return loaded;
  return require(require.resolve(module, { paths: [appRoot, moduleRoot] }));
}

async function loadHandler(appRoot, full) {
  if (full.includes('..')) {
    throw new MalformedHandlerName(`'${full}' is not a valid handler name. Use absolute paths ` +
      'when specifying root directories in handler names.');
  }
  const base = path.basename(full);
  const moduleRoot = full.substring(0, full.indexOf(base));
  const m = base.match(/^([^.]*)\.(.*)$/);
  if (!m || m.length !== 3) throw new MalformedHandlerName('Bad handler');
  globalThis.awslambda = {
    streamifyResponse: () => {
      throw new Error('response streaming is not supported by the nerd platform');
    },
  };
  let app;
  try {
    app = await loadModule(appRoot, moduleRoot, m[1]);
  } catch (e) {
    if (e instanceof SyntaxError) throw new UserCodeSyntaxError(e);
    if (e.code === 'MODULE_NOT_FOUND') throw new ImportModuleError(e);
    throw e;
  }
  const fn = m[2].split('.').reduce((o, k) => o && o[k], app);
  if (!fn) throw new HandlerNotFound(`${full} is undefined or not exported`);
  if (typeof fn !== 'function') throw new HandlerNotFound(`${full} is not a function`);
  return fn;
}

// ---- invocations: AWS's Runtime.js, CallbackContext.js, InvokeContext.js ----

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const noop = () => {};
globalThis[BEFORE_EXIT] = noop;

function parseHeaderJson(value, name) {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

// [callback, context, markCompleted]: the first completion wins.
function callbackContext(api, id, scheduleNext) {
  let completed = false;
  let waitForEmptyLoop = true;
  let finished = false;
  const postError = (err, cb) => {
    logError('Invoke Error', err);
    api.postError(err, id, cb);
  };
  const complete = (result, cb) => {
    if (completed) {
      console.error('Invocation has already been reported as done. Cannot call complete more ' +
        'than once per invocation.');
      return;
    }
    completed = true;
    api.postResponse(result, id, cb);
  };
  const callback = (err, result) => {
    globalThis[BEFORE_EXIT] = noop;
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyLoop) {
      complete(result, scheduleNext);
    } else {
      globalThis[BEFORE_EXIT] = () => setImmediate(() => complete(result, scheduleNext));
    }
  };
  const done = (err, result) => {
    globalThis[BEFORE_EXIT] = noop;
    if (err !== undefined && err !== null) postError(err, scheduleNext);
    else complete(result, scheduleNext);
  };
  const once = (f) => (...args) => {
    if (!finished) {
      f(...args);
      finished = true;
    }
  };
  const context = {
    get callbackWaitsForEmptyEventLoop() { return waitForEmptyLoop; },
    set callbackWaitsForEmptyEventLoop(v) { waitForEmptyLoop = v; },
    succeed: once((result) => done(null, result)),
    fail: once((err) => (err === undefined || err === null ? done('handled') : done(err, null))),
    done: once(done),
  };
  return [once(callback), context, () => { completed = true; }];
}

function attachContext(context, headers) {
  const h = {};
  for (const k of Object.keys(headers)) h[k.toLowerCase()] = headers[k];
  const trace = h['lambda-runtime-trace-id'];
  if (trace) process.env._X_AMZN_TRACE_ID = trace;
  else delete process.env._X_AMZN_TRACE_ID;
  const deadline = h['lambda-runtime-deadline-ms'];
  return Object.assign(context, {
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
  }, {
    clientContext: parseHeaderJson(h['lambda-runtime-client-context'], 'ClientContext'),
    identity: parseHeaderJson(h['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
    invokedFunctionArn: h['lambda-runtime-invoked-function-arn'],
    awsRequestId: h['lambda-runtime-aws-request-id'],
    tenantId: h['lambda-runtime-aws-tenant-id'],
    getRemainingTimeInMillis: () => deadline - Date.now(),
  });
}

const isPromise = (o) => o && o.then && typeof o.then === 'function';

async function main() {
  patchConsole();
  const api = new RuntimeApi(process.env.AWS_LAMBDA_RUNTIME_API);
  const onError = {
    uncaughtException: (e) => api.postInitError(e, () => process.exit(129)),
    unhandledRejection: (e) => api.postInitError(e, () => process.exit(128)),
  };
  process.on('uncaughtException', (e) => {
    logError('Uncaught Exception', e);
    onError.uncaughtException(e);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const e = new UnhandledPromiseRejection(reason);
    e.reason = reason;
    e.promise = promise;
    logError('Unhandled Promise Rejection', e);
    onError.unhandledRejection(e);
  });
  process.on('beforeExit', () => globalThis[BEFORE_EXIT]());
  const root = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handler = await loadHandler(root, process.env._HANDLER || '');
  const isAsync = handler.constructor?.name === 'AsyncFunction';
  if (handler.length === 3 && !isAsync &&
      process.env.AWS_LAMBDA_NODEJS_DISABLE_CALLBACK_WARNING === undefined) {
    console.warn(CALLBACK_WARNING);
  }

  const scheduleNext = () => setImmediate(() => once().catch((err) => {
    console.log(`Unexpected Top Level Error: ${err.toString()}`);
    onError.uncaughtException(err);
  }));
  async function once() {
    const { bodyJson, headers } = await api.next();
    const id = headers['lambda-runtime-aws-request-id'];
    globalThis[REQUEST_ID] = id;
    globalThis[TENANT_ID] = headers['lambda-runtime-aws-tenant-id'];
    const [callback, ctx, markCompleted] = callbackContext(api, id, scheduleNext);
    try {
      onError.uncaughtException = (e) => api.postError(e, id, () => process.exit(129));
      onError.unhandledRejection = (e) => api.postError(e, id, () => process.exit(128));
      globalThis[BEFORE_EXIT] = () => { // the loop emptied with no completion
        markCompleted();
        if (isAsync) {
          const e = new NodeJsExit(NODEJS_EXIT_MESSAGE);
          logError('Invoke Error', e);
          api.postError(e, id, scheduleNext);
        } else {
          api.postResponse(null, id, scheduleNext);
        }
      };
      const result = handler(JSON.parse(bodyJson), attachContext(ctx, headers), callback);
      if (isPromise(result)) result.then(ctx.succeed, ctx.fail).catch(ctx.fail);
    } catch (err) {
      callback(err);
    }
  }
  scheduleNext();
}

main().catch((e) => { // init failed: as an uncaught exception, AWS's way
  logError('Uncaught Exception', e);
  new RuntimeApi(process.env.AWS_LAMBDA_RUNTIME_API).postInitError(e, () => process.exit(129));
});
