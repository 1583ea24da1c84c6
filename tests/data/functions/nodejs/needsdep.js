// needs a package that is not there
require('notinstalled');
exports.handler = async () => null;
