// An unmodified Node.js Lambda handler for a REST API (Type: Api event,
// payload format 1.0), as a user would write it for AWS: run by AWS's
// runtime interface client (npm aws-lambda-ric) on nerd's local platform in
// tests/platform/test_node_ric.sh.
export const handler = async (event, context) => {
  if (event.pathParameters && event.pathParameters.id === "fail") {
    throw new Error("product lookup failed");
  }
  return {
    statusCode: 200,
    headers: { "Content-Type": "application/json" },
    multiValueHeaders: { "X-Served-By": ["aws-lambda-ric", "nerd"] },
    body: JSON.stringify({
      id: event.pathParameters.id,
      resource: event.resource,
      stage: event.requestContext.stage,
      contextPath: event.requestContext.path,
      tags: event.multiValueQueryStringParameters ? event.multiValueQueryStringParameters.tag : null,
      functionName: context.functionName,
      requestId: context.awsRequestId,
    }),
  };
};
