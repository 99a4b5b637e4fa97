export { type Customer, NetsuiteCompany, type Subsidiary, type Txn } from './company';
export { NetsuiteSandbox, type SandboxOptions } from './server';
export { runSuiteql } from './suiteql';
