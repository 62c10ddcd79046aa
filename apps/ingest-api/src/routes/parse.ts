import type { z } from 'zod';
import { describeIssues } from '@im/contracts';
import { invalidArgument } from '@im/errors';

/** Parses a request part with a zod schema; failures become INVALID_ARGUMENT naming each field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalidArgument(describeIssues(r.error, prefix));
  return r.data;
}
