// Runs AWS's own runtime interface client, npm's aws-lambda-ric (3.3.0,
// pinned in package.json here and installed under node_modules/ by `make
// node-ric`), as Lambda's managed Node.js runtimes run it: the handler
// _HANDLER from LAMBDA_TASK_ROOT.  nerd starts this file instead of
// index.mjs (its own client) for nodejs18.x-22.x functions where that
// package is installed (docs/runtimes.md).
import { run } from 'aws-lambda-ric';

await run(process.env.LAMBDA_TASK_ROOT, process.env._HANDLER);
