/**
 * Imported first by the `duely` entry (src/cli.ts), before anything that loads React: `npm start` and
 * `duely serve` run React's production build unless NODE_ENV says otherwise. React picks its development or
 * production build per package when that package is first loaded, so NODE_ENV must be settled before the first
 * import, never changed later (a JSX runtime in one mode and react-dom/server in the other fails with
 * "dispatcher.getOwner is not a function"). Development: `NODE_ENV=development npm start`.
 */
process.env.NODE_ENV ??= 'production';
