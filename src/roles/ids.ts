import { randomUUID } from 'node:crypto';

/** Message and object ids s2-engine generates: lowercase UUID v4 (R3, R4). */
export const newUuid = (): string => randomUUID();
