// a syntax error
exports.handler = async () => {
  return {;
};
