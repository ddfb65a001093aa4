export type { AccessTokens, OneTimeKind, OneTimePayload, PairingRecord, PairingStore, PairingStoreOptions } from './pairing-store.js';
export { DEFAULT_TOMBSTONE_TTL_MS } from './pairing-store.js';
export { PairingStoreError } from './errors.js';
export { MemoryPairingStore } from './memory-store.js';
export { DirectoryPairingStore, PAIRING_FILE_FORMAT } from './directory-store.js';
