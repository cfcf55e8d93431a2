// Built from clients/js/src by `npm run build` in clients/js. Do not edit.
/** The listeners of a client's events. */
export class Emitter {
    constructor() {
        this.listeners = {
            signedIn: new Set(),
            refreshed: new Set(),
            signedOut: new Set(),
            stepUpRequired: new Set(),
            steppedUp: new Set(),
        };
    }
    /** Subscribes listener to type; returns the function that unsubscribes. */
    on(type, listener) {
        const set = this.listeners[type];
        set.add(listener);
        return () => {
            set.delete(listener);
        };
    }
    /** Calls every listener of type; a listener that throws does not stop the others. */
    emit(type, event) {
        for (const listener of [...this.listeners[type]]) {
            try {
                listener(event);
            }
            catch (err) {
                // A listener's bug must not break the client's flow: report it
                // the way an uncaught error in an event handler is reported.
                setTimeout(() => {
                    throw err;
                }, 0);
            }
        }
    }
}
