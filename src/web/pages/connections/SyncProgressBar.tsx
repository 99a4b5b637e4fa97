/** A connection's sync progress: a determinate bar where totals are known, otherwise an indeterminate one. */
import type { SyncRunView } from '../../lib/types';
import { syncProgressView } from './sync-progress';

export function SyncProgressBar({ run, name }: { run: SyncRunView | null; name: string }) {
  const view = syncProgressView(run);
  return (
    <div className="sync-progress" data-testid="sync-progress">
      <div
        role="progressbar"
        aria-label={`Sync of ${name}`}
        aria-valuemin={0}
        {...(view.determinate ? { 'aria-valuemax': view.max, 'aria-valuenow': view.value } : {})}
        aria-valuetext={view.text}
        className={`progress${view.determinate ? '' : ' progress-indeterminate'}`}
      >
        <div
          className="progress-fill"
          style={view.determinate ? { width: `${view.percent ?? 0}%` } : undefined}
        />
      </div>
      <div className="small muted sync-progress-text">{view.text}</div>
    </div>
  );
}
