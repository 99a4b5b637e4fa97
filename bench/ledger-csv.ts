/** A synthetic canonical ledger: `n` invoices over `customers` customers with varied payment habits. */
export function generateLedgerCsv(n: number, customers = Math.max(10, Math.round(n / 50)), seed = 7): string {
  let state = seed >>> 0;
  const rand = () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
  const day = (base: number, add: number) => new Date(base + add * 86_400_000).toISOString().slice(0, 10);
  const start = Date.parse('2012-01-01T00:00:00Z');
  const spanDays = 540;
  const lines = ['customer_id,invoice_id,invoice_date,due_date,amount,currency,paid_date,delivery,country'];
  const habit = Array.from({ length: customers }, () => Math.floor(rand() * 40) - 10);
  for (let i = 0; i < n; i++) {
    const c = Math.floor(rand() * customers);
    const issued = Math.floor((i / n) * spanDays);
    const lateBy = habit[c]! + Math.floor(rand() * 20) - 5;
    const paid = 30 + lateBy;
    const paidDay = issued + Math.max(1, paid);
    const amount = (5 + rand() * 2000).toFixed(2);
    lines.push(
      `C${c},INV${i},${day(start, issued)},${day(start, issued + 30)},${amount},USD,${paidDay < spanDays ? day(start, paidDay) : ''},${rand() < 0.4 ? 'email' : 'print'},${c % 7}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
