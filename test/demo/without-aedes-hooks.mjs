export async function resolve(specifier, context, nextResolve) {
  if (specifier === "aedes" || specifier.startsWith("aedes/")) {
    const error = new Error(`Cannot find package '${specifier}' (hidden by without-aedes.mjs)`);
    error.code = "ERR_MODULE_NOT_FOUND";
    throw error;
  }
  return nextResolve(specifier, context);
}
