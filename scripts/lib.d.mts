/** Types of the helpers in lib.mjs that TypeScript code (test support, bench) uses. */
export function ensureBundles(roles?: readonly string[]): Promise<void>;
export function roleBundle(role: string): string;
