export * from './ledger';
export * from './tenants';
