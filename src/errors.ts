/**
 * An error whose status and message are part of the API contract and go to the client as they are.
 * `details` are documented extra fields of the envelope, beside `error` and `message` (the contract
 * fixes the message; `missing` names what was missing): `{"error":true,"message":"…","missing":["text"]}`.
 */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: Readonly<Record<string, unknown>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const UNEXPECTED_ERROR = 'An unexpected error occurred';

export function badRequest(message: string): ApiError {
  return new ApiError(400, message);
}

export function notFound(message: string): ApiError {
  return new ApiError(404, message);
}

export function conflict(message: string): ApiError {
  return new ApiError(409, message);
}
