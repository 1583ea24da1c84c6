// A handler under a module root: Handler src/handlers/deep.handler
exports.handler = async () => ({ kind: 'deep', dir: __dirname.split('/').slice(-2).join('/') });
