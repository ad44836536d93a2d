/**
 * The state store did not answer within its budget, or is disconnected. HTTP: recommendations
 * carry on degraded (no history, no fold-in); event ingestion answers 503 with Retry-After.
 */
export class StateUnavailableError extends Error {
  override name = 'StateUnavailableError'
}
