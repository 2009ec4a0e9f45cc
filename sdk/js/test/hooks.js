// Resolves `provisioning:connector/*` (provided by the host inside a component) to the scripted
// fake host of the tests.
export async function resolve(specifier, context, next) {
  if (specifier.startsWith('provisioning:connector/')) {
    return { url: new URL('./fake-host.js', import.meta.url).href, shortCircuit: true };
  }
  return next(specifier, context);
}
