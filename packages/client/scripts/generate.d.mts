/** docs/openapi.yaml, the client's source. */
export const DOCUMENT: string;
/** packages/client/src/schema.ts, the generated types. */
export const SCHEMA_FILE: string;
/** The TypeScript text of the document's paths, operations and components. */
export function generateSchema(): Promise<string>;
