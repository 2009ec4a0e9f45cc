// A scripted host for native tests: `send` records each request and answers with the handler
// set by `answer`; an answer with a `tag` is thrown as an `http-error`, like the bindings do.
export const requests = [];
let handler = () => ({ status: 200, headers: [], body: new Uint8Array() });

/** Sets how the next requests are answered: `handler(request)` returns a response or an http-error. */
export function answer(next) {
  handler = next;
  requests.length = 0;
}

/** The contract's `http.send`. */
export function send(request) {
  requests.push(request);
  const result = handler(request);
  if (result && typeof result.tag === 'string') throw result;
  return result;
}

/** The contract's `http.invalidate-token`. */
export function invalidateToken() {}

/** The contract's `log.log`. */
export function log() {}
