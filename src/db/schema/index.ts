export * from './ledger';
export * from './risk';
export * from './sessions';
export * from './tenants';
export * from './dunning';
