import type { Activity } from '../../../shared/web-api.js';

/**
 * A request sent this soon after a click, key or wheel turn counts as caused by the person
 * (a save, a page change, the refetch after it). Later ones are the page on its own.
 */
export const RECENT_INPUT_MS = 5_000;

/** What a person does; pointer moves are left out (a mouse nudged by the desk is nobody working). */
const INPUT_EVENTS = ['pointerdown', 'keydown', 'wheel'] as const;

/** Whether a person is using the page right now, and a call on every input. */
export interface ActivitySource {
  current(): Activity;
  onInput(listener: () => void): () => void;
}

/**
 * Watches the page for real input, so the session's idle clock follows the person and not
 * the page's own polling. Listens in the capture phase, so nothing a component does with the
 * event can hide it.
 */
export class PageActivity implements ActivitySource {
  #lastInputAt = Number.NEGATIVE_INFINITY;
  readonly #listeners = new Set<() => void>();

  constructor(
    target: EventTarget = window,
    private readonly now: () => number = () => Date.now(),
    private readonly recentMs: number = RECENT_INPUT_MS,
  ) {
    for (const type of INPUT_EVENTS) target.addEventListener(type, this.#record, { capture: true, passive: true });
  }

  current(): Activity {
    return this.now() - this.#lastInputAt <= this.recentMs ? 'user' : 'background';
  }

  onInput(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  readonly #record = (): void => {
    this.#lastInputAt = this.now();
    for (const l of this.#listeners) l();
  };
}
