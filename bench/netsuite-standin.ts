/**
 * The NetSuite stand-in for bench/netsuite-sync.ts, in a process of its own: NetSuite is remote, so rendering its
 * JSON answers must not be counted on the CPU of the process that syncs. Builds an n-invoice company (a third of
 * the invoices paid, partly, by one payment each), serves it, prints one JSON line {url, accountId, env,
 * invoices, entities}, then answers IPC messages: {latencyMs} sets the time every SuiteQL page takes (NetSuite's
 * page time replayed), {stats: true} replies {peakInFlight, requests} and resets them.
 * `tsx bench/netsuite-standin.ts [n] [concurrencyLimit]`
 */
import path from 'node:path';
import { NetsuiteCompany, NetsuiteSandbox } from '../sandboxes/netsuite';

export function benchCompany(n: number): NetsuiteCompany {
  const c = NetsuiteCompany.generate({ seed: 7, customers: Math.max(12, Math.round(n / 40)) });
  const customers = [...c.customers.values()];
  for (let i = 0; i < n; i++) {
    const cust = customers[i % customers.length]!;
    const inv = c.addInvoice(cust, 10_000 + ((i * 7919) % 500_000), 30);
    if (i % 3 === 0)
      c.addPayment(cust, inv.totalMinor, [
        { invoice: inv.id, amountMinor: Math.ceil(inv.totalMinor / (1 + (i % 2))) },
      ]);
  }
  return c;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 5_000);
  const concurrencyLimit = Number(process.argv[3] ?? 15);
  const sandbox = new NetsuiteSandbox({ company: benchCompany(n), concurrencyLimit });
  await sandbox.start();
  const c = sandbox.company;
  process.stdout.write(
    `${JSON.stringify({
      url: sandbox.url,
      accountId: sandbox.accountId,
      env: sandbox.env(),
      invoices: [...c.txns.values()].filter((t) => t.type === 'CustInvc').length,
      entities: c.customers.size + c.txns.size,
    })}\n`,
  );
  process.on('message', (m: { latencyMs?: number; stats?: boolean }) => {
    if (typeof m.latencyMs === 'number') {
      sandbox.options.latencyMs = m.latencyMs;
      process.send?.({ ok: true });
    } else if (m.stats) {
      process.send?.({ peakInFlight: sandbox.peakInFlight, requests: sandbox.queries.length });
      sandbox.peakInFlight = 0;
      sandbox.queries.length = 0;
    }
  });
  process.on('disconnect', () => {
    sandbox.stop().then(() => process.exit(0));
  });
}

if (import.meta.filename === path.resolve(process.argv[1] ?? '')) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
