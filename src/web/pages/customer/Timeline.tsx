/**
 * Everything that happened with the customer in one list, newest first: invoices issued, payments received,
 * credit memos issued (and the invoices they were applied to),
 * reminders (planned, held, sent → delivered or bounced, skipped with the reason), promises and disputes. Each
 * message opens "why this message" in place.
 */
import { useId, useState } from 'react';
import { MessageWhy } from '../../components/dunning';
import { Empty, Link } from '../../components/ui';
import { formatClock, formatDate, formatMoney } from '../../lib/format';
import {
  filterTimeline,
  type TimelineEntry,
  type TimelineFilter,
  timelineFilters,
} from './customer-timeline';

const PAGE = 50;

const kindLabel: Record<TimelineEntry['kind'], string> = {
  invoice: 'Invoice',
  payment: 'Payment',
  credit: 'Credit memo',
  message: 'Message',
  promise: 'Promise to pay',
  dispute: 'Dispute',
};

export function Timeline({ entries, cut }: { entries: TimelineEntry[]; cut: boolean }) {
  const [filter, setFilter] = useState<TimelineFilter>('all');
  const [shown, setShown] = useState(PAGE);
  const filterId = useId();
  const visible = filterTimeline(entries, filter);
  return (
    <section className="card" aria-labelledby={`${filterId}-h`} data-testid="timeline">
      <div className="timeline-head">
        <h2 className="card-title" id={`${filterId}-h`}>
          Timeline
        </h2>
        <div className="field">
          <label htmlFor={filterId}>Show</label>
          <select
            id={filterId}
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value as TimelineFilter);
              setShown(PAGE);
            }}
          >
            {timelineFilters.map((f) => (
              <option key={f.value} value={f.value}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <p className="sr-only" aria-live="polite">
        {visible.length} {visible.length === 1 ? 'entry' : 'entries'}, newest first
      </p>
      {visible.length === 0 ? (
        <Empty>Nothing to show yet.</Empty>
      ) : (
        <ol className="timeline">
          {visible.slice(0, shown).map((e) => (
            <TimelineItem key={e.key} e={e} />
          ))}
        </ol>
      )}
      {visible.length > shown ? (
        <div className="more">
          <button type="button" className="btn btn-secondary" onClick={() => setShown((n) => n + PAGE)}>
            Show {Math.min(PAGE, visible.length - shown)} more of {visible.length - shown}
          </button>
        </div>
      ) : null}
      {cut ? <p className="note">Only the newest 500 messages of this customer are listed.</p> : null}
    </section>
  );
}

function TimelineItem({ e }: { e: TimelineEntry }) {
  return (
    <li className={`tl-item tl-${e.kind}${e.upcoming ? ' tl-upcoming' : ''}`} data-kind={e.kind}>
      <span className="tl-dot" aria-hidden="true" />
      <div className="tl-when">
        <time dateTime={e.day}>{formatDate(e.day)}</time>
        {e.time ? <span className="muted small"> {formatClock(e.time)}</span> : null}
        {e.upcoming ? <span className="muted small"> · upcoming</span> : null}
      </div>
      <div className="tl-body">
        <div className="tl-line">
          <span className="sr-only">{kindLabel[e.kind]}: </span>
          <span className="tl-title">{e.title}</span>
          {e.amounts.length ? (
            <span className="tl-amount">
              {e.amounts.map((a) => formatMoney(a.minor, a.currency)).join(' + ')}
            </span>
          ) : null}
          <span className={`badge badge-${e.status.tone}`}>{e.status.label}</span>
        </div>
        {e.detail ? <p className="tl-detail">{e.detail}</p> : null}
        {e.message ? (
          <details className="tl-why">
            <summary>Why this message</summary>
            <MessageWhy m={e.message} />
            <p className="small">
              <Link href={`/messages?message=${encodeURIComponent(e.message.id)}`}>
                Open in Messages (rendered email, delivery events)
              </Link>
            </p>
          </details>
        ) : null}
      </div>
    </li>
  );
}
