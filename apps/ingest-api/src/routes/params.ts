import { z } from 'zod';
import { describeValue, idField } from '@im/contracts';

/** `{user_id}`-style path parameters. */
export const userParams = z.object({ user_id: idField('user_id') });

/** An integer query parameter within bounds, with a default when absent. */
export const intQuery = (name: string, min: number, max: number, def: number) =>
  z.unknown().optional().transform((v, ctx) => {
    if (v === undefined || v === '') return def;
    if (typeof v === 'string' && /^\d{1,9}$/.test(v)) {
      const n = Number(v);
      if (n >= min && n <= max) return n;
    }
    ctx.addIssue({ code: 'custom', message: `${name} must be an integer from ${min} to ${max} (got ${describeValue(v)})` });
    return z.NEVER;
  });

/** An optional id in the query string. */
export const optionalIdQuery = (name: string) =>
  z.unknown().optional().transform((v, ctx): string | null => {
    if (v === undefined || v === '') return null;
    const parsed = idField(name).safeParse(v);
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]!.message });
    return z.NEVER;
  });

/** An opaque page cursor (page-cursor.ts checks what it holds); null when absent. */
export const cursorQuery = z
  .unknown()
  .optional()
  .transform((v, ctx): string | null => {
    if (v === undefined || v === '') return null;
    if (typeof v === 'string') return v;
    ctx.addIssue({ code: 'custom', message: 'cursor must be given once, as the next_cursor of the previous page' });
    return z.NEVER;
  });

/** A short printable name: 1 to max characters, no control characters. */
export const nameField = (name: string, max: number) =>
  z.unknown().transform((v, ctx) => {
    if (typeof v === 'string' && v.trim().length > 0 && [...v].length <= max && v.isWellFormed() && !/[\u0000-\u001f\u007f]/.test(v)) return v;
    ctx.addIssue({ code: 'custom', message: `${name} must be 1 to ${max} characters of text without control characters (got ${describeValue(v)})` });
    return z.NEVER;
  });
