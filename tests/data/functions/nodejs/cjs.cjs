// A CommonJS handler (.cjs)
module.exports.handler = async () => ({ kind: 'cjs' });
