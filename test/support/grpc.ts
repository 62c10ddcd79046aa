import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { TEST_TOKEN } from './env';

/** Call metadata carrying `authorization: Bearer <token>`, as gateways send it. */
export function bearer(token = TEST_TOKEN): grpc.Metadata {
  const m = new grpc.Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

/** Resolves to the error a call failed with, after checking its status code (and its details when given); fails if the call succeeded. */
export async function rejectsWith(p: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<grpc.ServiceError> {
  const err = (await p.then(
    () => assert.fail('expected an error'),
    (e: grpc.ServiceError) => e,
  )) as grpc.ServiceError;
  assert.equal(err.code, code, `${grpc.status[err.code]}: ${err.details}`);
  if (details) assert.match(err.details, details);
  return err;
}
