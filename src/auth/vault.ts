/** The token vault and key derivation live in src/keys.ts (infrastructure the root builds once); re-exported here. */
export { deriveKey, Vault } from '../keys';
