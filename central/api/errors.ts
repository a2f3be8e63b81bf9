// An answer other than success, thrown from a route and sent by the API's error handler as
// { error, message } with its status: the one shape every refusal of the API has.
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    /** A short code: bad-request, unauthorized, forbidden, not-found, conflict, too-many-requests, no-users. */
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
