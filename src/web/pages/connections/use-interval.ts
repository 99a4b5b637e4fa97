import { useEffect, useRef } from 'react';

/** Calls `fn` every `ms` milliseconds while `ms` is not null (the latest `fn`, without restarting the timer). */
export function useInterval(fn: () => void, ms: number | null): void {
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const id = setInterval(() => latest.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}
