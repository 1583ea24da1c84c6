// Node.js handlers (CommonJS) for tests/platform/test_nodejs.sh, run by the
// platform's nodejs runtime (runtimes/node/index.mjs, or AWS's
// aws-lambda-ric where installed): what a handler sees, how async and
// callback handlers complete, what it logs and how it fails.
let count = 0; // a warm environment keeps it
console.log(`init index pid=${process.pid}`);

function info(event, context) {
  count += 1;
  return {
    count,
    event,
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    invokedFunctionArn: context.invokedFunctionArn,
    memoryLimitInMB: context.memoryLimitInMB,
    awsRequestId: context.awsRequestId,
    logGroupName: context.logGroupName,
    logStreamName: context.logStreamName,
    identity: context.identity === undefined ? 'undefined' : context.identity,
    clientContext: context.clientContext === undefined ? 'undefined' : context.clientContext,
    remaining: context.getRemainingTimeInMillis(),
    waits: context.callbackWaitsForEmptyEventLoop,
    env: Object.fromEntries(['AWS_EXECUTION_ENV', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
      '_HANDLER', 'NODE_PATH', 'TZ', 'LANG', 'PATH', 'AWS_LAMBDA_FUNCTION_NAME',
      '_X_AMZN_TRACE_ID', 'GREETING'].map((k) => [k, process.env[k]])),
    cwd: process.cwd(),
    execPath: process.execPath,
  };
}

exports.handler = async (event, context) => {
  console.log(`handling ${event.rawPath || event.path || '-'}`);
  const body = info(event, context);
  if (event.requestContext) {
    return { statusCode: 200, headers: { 'x-runtime': 'node' }, body: JSON.stringify(body) };
  }
  return body;
};

exports.cb = (event, context, callback) => {
  callback(null, { style: 'callback', count: ++count });
};

exports.cberr = (event, context, callback) => {
  callback('Unauthorized');
};

exports.succeed = (event, context) => {
  context.succeed({ style: 'succeed' });
  context.succeed({ style: 'second' }); // ignored: the first completion wins
};

// callbackWaitsForEmptyEventLoop (default true): the result goes once the
// timer has run
exports.waits = (event, context, callback) => {
  setTimeout(() => console.log('timer fired'), 200);
  callback(null, 'after the timer');
};

exports.nowait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => console.log('late timer'), 1500);
  callback(null, 'before the timer');
};

exports.thrower = async () => {
  const e = new TypeError('boom');
  e.extra = 5;
  throw e;
};

exports.syncthrow = () => {
  throw new RangeError('sync boom');
};

exports.nothing = () => {}; // never completes: null when the loop empties

exports.never = async () => new Promise(() => {}); // never settles

exports.uncaught = (event, context, callback) => {
  setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
};

exports.rejects = async () => {
  Promise.reject(new Error('nobody catches this'));
  return new Promise((resolve) => setTimeout(() => resolve('late'), 500));
};

exports.nested = { deeper: { fn: async () => ({ nested: true }) } };
exports.notfn = 5;

exports.logs = async (event, context) => {
  console.log('a log line', { a: [1, 2] });
  console.info('info %s', 'formatted');
  console.warn('two\nlines');
  console.error('an error');
  console.debug('a debug line');
  console.trace('a trace line');
  process.stdout.write('raw write\n');
  return 'logged';
};

exports.hog = async () => {
  const blocks = [];
  for (let i = 0; i < 400; i++) blocks.push(Buffer.alloc(1 << 20, 1)); // 400 MB, touched
  console.log(`allocated ${blocks.length} MB`);
  return 'survived';
};

exports.slow = async () => {
  console.log('sleeping');
  await new Promise((resolve) => setTimeout(resolve, 10000));
  return 'woke';
};

exports.crash = async () => {
  console.log('crashing');
  process.exit(3);
};
