// An ES module handler in a .js file under "type": "module"
export const handler = async () => ({ kind: 'esm .js', meta: typeof import.meta.url });
