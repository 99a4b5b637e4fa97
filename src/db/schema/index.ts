export * from './ledger';
export * from './risk';
export * from './tenants';
