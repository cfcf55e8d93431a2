import type { ClientEvents } from './types.js';

/** A listener of the event K. */
export type Listener<K extends keyof ClientEvents> = (event: ClientEvents[K]) => void;

/** The listeners of a client's events. */
export class Emitter {
  private readonly listeners: { [K in keyof ClientEvents]: Set<Listener<K>> } = {
    signedIn: new Set(),
    refreshed: new Set(),
    signedOut: new Set(),
    stepUpRequired: new Set(),
    steppedUp: new Set(),
  };

  /** Subscribes listener to type; returns the function that unsubscribes. */
  on<K extends keyof ClientEvents>(type: K, listener: Listener<K>): () => void {
    const set = this.listeners[type] as Set<Listener<K>>;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /** Calls every listener of type; a listener that throws does not stop the others. */
  emit<K extends keyof ClientEvents>(type: K, event: ClientEvents[K]): void {
    for (const listener of [...(this.listeners[type] as Set<Listener<K>>)]) {
      try {
        listener(event);
      } catch (err) {
        // A listener's bug must not break the client's flow: report it
        // the way an uncaught error in an event handler is reported.
        setTimeout(() => {
          throw err;
        }, 0);
      }
    }
  }
}
