// Requires a package from its layer (tests/data/layers/node): NODE_PATH
const greeter = require('greeter');
console.log(`init layered node pid=${process.pid}`);
exports.handler = async () => ({
  greeting: greeter('ada'),
  from: require.resolve('greeter'),
  nodePath: process.env.NODE_PATH,
});
