/**
 * JSON.parse with the caller deciding what text that is not JSON means: `invalid` gets JSON.parse's reason
 * (which quotes the text: leave it out of messages where the text may hold a secret) and returns a stand-in
 * or throws. Without it, such text parses to undefined, which no JSON text does.
 */
export function parseJson(text: string, invalid: (reason: string) => unknown = () => undefined): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return invalid((error as Error).message);
  }
}
