import { describe, expect, it } from 'vitest';
import { MemoryPairingStore, PairingStoreError } from '../../src/connect/store/index.js';
import { pairingStoreContract } from './store-contract.js';

pairingStoreContract('MemoryPairingStore', (options) => new MemoryPairingStore(options));

describe('MemoryPairingStore', () => {
  it('refuses a negative or non-finite tombstone lifetime', () => {
    expect(() => new MemoryPairingStore({ tombstoneTtlMs: -1 })).toThrow(PairingStoreError);
    expect(() => new MemoryPairingStore({ tombstoneTtlMs: Number.POSITIVE_INFINITY })).toThrow(PairingStoreError);
  });
});
