import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuditActor } from '../../../shared/evidence.js';

/**
 * Who changed config.json. The file does not say, so every tool that edits it
 * on a person's behalf (the CLI, the API behind the UI) first leaves a note in
 * `run/admin-change.json`; the agent, when it sees the change, credits the
 * newest note that is younger than the last change it recorded. A change with
 * no such note came from editing the file by hand.
 */
export const ADMIN_NOTE_FILE = path.join('run', 'admin-change.json');

interface Note {
  via: 'cli' | 'api';
  user: string;
  pid: number;
  at: string;
}

export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid ${process.getuid?.() ?? '?'}`;
  }
}

export function noteAdminChange(dataDir: string, via: 'cli' | 'api', user = currentUser()): void {
  const file = path.join(dataDir, ADMIN_NOTE_FILE);
  const note: Note = { via, user, pid: process.pid, at: new Date().toISOString() };
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(note)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    // Attribution is a courtesy; the change itself is still audited, as a file edit.
  }
}

/** The actor for a change seen now, given when the previous change was recorded. */
export function adminActorFor(dataDir: string, lastRecordedAt: number): AuditActor {
  try {
    const note = JSON.parse(fs.readFileSync(path.join(dataDir, ADMIN_NOTE_FILE), 'utf8')) as Note;
    if (Date.parse(note.at) > lastRecordedAt && (note.via === 'cli' || note.via === 'api') && typeof note.user === 'string') {
      return { kind: 'local-admin', user: note.user, via: note.via };
    }
  } catch {
    // no note: a hand edit
  }
  let user = 'unknown';
  try {
    const uid = fs.statSync(path.join(dataDir, 'config.json')).uid;
    user = uid === process.getuid?.() ? currentUser() : `uid ${uid}`;
  } catch {
    // keep unknown
  }
  return { kind: 'local-admin', user, via: 'file' };
}

/** Each wrapper's underlying API. */
const unwrapped = new WeakMap<object, object>();

/**
 * Wraps the mutating methods of an API object so each leaves a note before it changes the file.
 * `user` names the person when it is not the OS account running this process (the headless UI's admin).
 */
export function withAdminNotes<T extends object>(api: T, dataDir: string, via: 'cli' | 'api', user?: string): T {
  const mutating = /^(add|update|remove|set|pair)/;
  // Wrapping a wrapped API replaces its note rather than stacking a second one (the inner note would be written last and win).
  const base = (unwrapped.get(api) as T | undefined) ?? api;
  const proxy = new Proxy(base, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof prop !== 'string' || typeof value !== 'function' || !mutating.test(prop)) return value;
      return (...args: unknown[]) => {
        noteAdminChange(dataDir, via, user);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  unwrapped.set(proxy, base);
  return proxy;
}
