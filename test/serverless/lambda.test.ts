// The Lambda artifact (dist/lambda/index.mjs) invoked through lambda-local, with payload 2.0
// events made from real HTTP requests (test/helpers/lambda-url-emulator.ts): the buffered
// handler (API Gateway HTTP API, BUFFERED function URLs) and the streaming one (function URLs
// in RESPONSE_STREAM mode, awslambda.streamifyResponse).
import { fileURLToPath } from 'node:url';
import { describeTarget, spawnTarget } from '../helpers/serverless-target.ts';

const emulator = fileURLToPath(new URL('../helpers/lambda-url-emulator.ts', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));

describeTarget(
  'AWS Lambda, buffered handler (API Gateway HTTP API, function URL)',
  (env) => spawnTarget(tsx, [emulator, 'handler'], env),
  {
    supported: false,
    status: 406,
    message:
      /^subscriptions over SSE need a streamed answer: invoke the function URL in RESPONSE_STREAM mode with the handler "index.streamingHandler"/,
  },
);

describeTarget(
  'AWS Lambda, streaming handler (function URL, RESPONSE_STREAM)',
  (env) => spawnTarget(tsx, [emulator, 'streamingHandler'], env),
  { supported: true },
);
