/** S2 Connect 1.0 bodies: vocabulary, schemas, both dialects on read, OAS names plus compatibility fields on write. */
export * from './names.js';
export type * from './types.js';
export * from './schemas.js';
export { errorFromResponse, readBody, readBodyText, writeBody, type ReadResult } from './body.js';
