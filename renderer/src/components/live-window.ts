import { useCallback, useEffect, useRef, useState } from 'react';

/**
 * Items that arrive faster than React should render (1,000 requests/s), kept outside React
 * until the next flush. Holds at most `capacity` items but counts every one, so a paused view
 * can say how many arrived even after the oldest were dropped.
 */
export class LiveBuffer<T> {
  #items: T[] = [];
  #count = 0;

  constructor(readonly capacity: number) {}

  push(item: T): void {
    this.#items.push(item);
    this.#count += 1;
    // Trim in chunks, not on every push: splice on each item would make a burst quadratic.
    if (this.#items.length >= this.capacity * 2) this.#items.splice(0, this.#items.length - this.capacity);
  }

  /** Items pushed since the last drain, including any that were dropped. */
  get count(): number {
    return this.#count;
  }

  /** The newest `capacity` items, newest first; empties the buffer. */
  drain(): T[] {
    const out = this.#items.slice(-this.capacity).reverse();
    this.#items = [];
    this.#count = 0;
    return out;
  }

  clear(): void {
    this.#items = [];
    this.#count = 0;
  }
}

export interface LiveView<T> {
  /** Newest first, at most `capacity`. */
  items: readonly T[];
  /** Items pushed since the component mounted. */
  received: number;
  /** Items waiting while paused. */
  pending: number;
}

export interface LiveWindow<T> extends LiveView<T> {
  paused: boolean;
  /** Cheap: no render until the next flush. Stable across renders. */
  push(item: T): void;
  pause(): void;
  /** Applies what arrived while paused, at once. */
  resume(): void;
  /** Changes the shown items directly (initial load, a new filter); stable across renders. */
  update(fn: (items: readonly T[]) => readonly T[], options?: { dropPending?: boolean }): void;
}

export interface LiveWindowOptions<T> {
  capacity: number;
  /** At most one render per this many ms while items stream in. */
  flushMs?: number;
  /** Puts `newer` (newest first) in front of `older`, keeping at most `capacity`. */
  merge?: (newer: readonly T[], older: readonly T[], capacity: number) => readonly T[];
}

function concatWindow<T>(newer: readonly T[], older: readonly T[], capacity: number): readonly T[] {
  return newer.length >= capacity ? newer.slice(0, capacity) : newer.concat(older.slice(0, capacity - newer.length));
}

/**
 * A bounded, newest-first window over a fast stream with batched renders: pushes go into a
 * LiveBuffer and reach React state at most every `flushMs`, as one update.
 */
export function useLiveWindow<T>({ capacity, flushMs = 250, merge = concatWindow }: LiveWindowOptions<T>): LiveWindow<T> {
  const [view, setView] = useState<LiveView<T>>({ items: [], received: 0, pending: 0 });
  const [paused, setPaused] = useState(false);
  const buffer = useRef<LiveBuffer<T> | null>(null);
  buffer.current ??= new LiveBuffer<T>(capacity);
  const pausedRef = useRef(false);
  const received = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const lastFlush = useRef(0);
  const mergeRef = useRef(merge);
  mergeRef.current = merge;

  const flush = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = undefined;
    lastFlush.current = Date.now();
    const b = buffer.current!;
    const total = received.current;
    if (pausedRef.current) {
      const pending = b.count;
      setView((v) => (v.pending === pending && v.received === total ? v : { ...v, pending, received: total }));
      return;
    }
    const incoming = b.drain();
    setView((v) => ({
      items: incoming.length > 0 ? mergeRef.current(incoming, v.items, capacity) : v.items,
      received: total,
      pending: 0,
    }));
  }, [capacity]);

  const push = useCallback(
    (item: T) => {
      buffer.current!.push(item);
      received.current += 1;
      if (timer.current !== undefined) return;
      const wait = Math.max(0, flushMs - (Date.now() - lastFlush.current));
      timer.current = setTimeout(flush, wait);
    },
    [flush, flushMs],
  );

  const pause = useCallback(() => {
    pausedRef.current = true;
    setPaused(true);
  }, []);

  const resume = useCallback(() => {
    pausedRef.current = false;
    setPaused(false);
    flush();
  }, [flush]);

  const update = useCallback((fn: (items: readonly T[]) => readonly T[], options: { dropPending?: boolean } = {}) => {
    if (options.dropPending) buffer.current!.clear();
    setView((v) => ({ ...v, items: fn(v.items), ...(options.dropPending ? { pending: 0 } : {}) }));
  }, []);

  useEffect(
    () => () => {
      clearTimeout(timer.current);
      // StrictMode remounts: the next push must be able to schedule a flush again.
      timer.current = undefined;
    },
    [],
  );

  return { ...view, paused, push, pause, resume, update };
}
