// An unmodified Node.js Lambda handler, as a user would write it for AWS:
// run by AWS's runtime interface client (npm aws-lambda-ric) on nerd's
// local platform in tests/platform/test_node_ric.sh.
export const handler = async (event, context) => {
  if (event.rawPath === "/node/fail") {
    throw new TypeError("handler failed on purpose");
  }
  console.log("node handler saw", event.routeKey);
  return {
    statusCode: 200,
    headers: { "content-type": "application/json", "x-runtime": "aws-lambda-ric" },
    body: JSON.stringify({
      routeKey: event.routeKey,
      name: event.pathParameters ? event.pathParameters.name : null,
      requestId: context.awsRequestId,
      functionName: context.functionName,
      memory: context.memoryLimitInMB,
      remainingMs: context.getRemainingTimeInMillis() > 0,
    }),
  };
};
