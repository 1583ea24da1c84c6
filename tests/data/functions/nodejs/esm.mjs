// An ES module handler (.mjs)
export const handler = async (event, context) => ({ kind: 'mjs', fn: context.functionName });
