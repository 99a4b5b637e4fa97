/** `duely model train|evaluate|retrain`. */
import { getTenant } from '../db/queries/tenants';
import { evaluateCommand, formatRetrain, trainModelCommand } from '../risk/cli-commands';
import { createServices } from '../services';
import { configFor, countFlag, dateFlag, parse, UsageError } from './common';

export async function run(args: string[]) {
  const [sub, ...rest] = args;
  if (sub === 'train') {
    const { values } = parse(rest, {
      history: { type: 'string', multiple: true },
      out: { type: 'string' },
      'created-at': { type: 'string' },
    });
    const m = trainModelCommand({
      history: values.history === undefined ? undefined : [values.history].flat(),
      out: values.out,
      createdAt: values['created-at'],
    });
    const v = m.validation;
    process.stdout.write(
      `Trained ${m.version} on ${m.training.rows} invoices (data sha256 ${m.training.dataSha256.slice(0, 12)}…)` +
        (v ? `; time-ordered validation AUC ${v.auc.toFixed(3)}, Brier ${v.brier.toFixed(3)}` : '') +
        `
Written to ${values.out ?? 'models/default'}
`,
    );
    return;
  }
  if (sub === 'evaluate') {
    const { values } = parse(rest, {
      history: { type: 'string' },
      cutoff: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      window: { type: 'string' },
      every: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
      bootstrap: { type: 'string' },
      overdue: { type: 'boolean' },
    });
    if (!values.history) throw new UsageError('model evaluate needs --history FILE.csv');
    const window = values.window;
    if (window !== undefined && window !== 'selection' && window !== 'test') {
      throw new UsageError(`--window "${window}" is not a window: use selection or test`);
    }
    process.stdout.write(
      `${await evaluateCommand({
        history: values.history,
        cutoff: values.cutoff !== undefined ? dateFlag('cutoff', values.cutoff) : undefined,
        from: values.from !== undefined ? dateFlag('from', values.from) : undefined,
        to: values.to !== undefined ? dateFlag('to', values.to) : undefined,
        window,
        everyWeeks: values.every !== undefined ? countFlag('every', values.every, 1) : undefined,
        modelDir: values.model,
        json: values.json ?? false,
        bootstrap: values.bootstrap !== undefined ? countFlag('bootstrap', values.bootstrap, 0) : undefined,
        overdue: values.overdue ?? false,
      })}
`,
    );
    return;
  }
  if (sub === 'retrain') {
    const { values } = parse(rest, { tenant: { type: 'string' } });
    if (!values.tenant) throw new UsageError('model retrain needs --tenant NAME');
    const services = await createServices(configFor(values), { queue: false });
    try {
      const tenant = await getTenant(services.db, values.tenant);
      const result = await services.risk.retrain(tenant.id);
      process.stdout.write(`${formatRetrain(tenant.slug, result)}\n`);
    } finally {
      await services.close();
    }
    return;
  }
  throw new UsageError('model needs a subcommand: train, evaluate or retrain');
}
