/**
 * One dedicated LISTEN connection, kept alive across failures. It is only a wake-up hint: the
 * subscription polls as well, so a lost connection costs latency, never events. When the
 * connection dies it reconnects with exponential backoff, and tells its owner once LISTEN holds
 * again (anything notified in between was missed, so the owner should look).
 *
 * A dedicated `pg.Client`, not a pooled one: LISTEN belongs to a session, and a pooled
 * connection handed back would carry it to strangers (or lose it to the pool's idle timeout).
 */
import pg from 'pg';

export interface NotificationListenerOptions {
  /** Where to connect; the store passes its pool's settings. */
  readonly connection: pg.ClientConfig;
  readonly channel: string;
  /** Called for every notification on the channel (synchronously from the socket handler). */
  readonly onNotify: (payload: string | undefined) => void;
  /** Called each time LISTEN is (re-)established. */
  readonly onListening?: () => void;
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
}

/** A LISTEN connection that reconnects by itself; see the module comment. */
export class NotificationListener {
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private closed = false;
  private started = false;
  private isListening = false;

  constructor(private readonly options: NotificationListenerOptions) {
    if (!/^[a-z_][a-z0-9_]*$/.test(options.channel))
      throw new Error(`invalid channel name ${options.channel}`);
    this.delay = options.reconnectMinMs ?? 100;
  }

  /** True while the LISTEN connection is up. */
  get listening(): boolean {
    return this.isListening;
  }

  /** The server process id of the LISTEN connection, while there is one (for diagnostics). */
  get backendPid(): number | undefined {
    return this.isListening ? (this.client as { processID?: number } | undefined)?.processID : undefined;
  }

  /** Connects in the background; failures are retried, never thrown. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    // Deliberately detached: connect() handles its own failures by scheduling a retry.
    void this.connect();
  }

  /** UNLISTEN, end the connection, cancel any pending reconnect. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const client = this.client;
    this.client = undefined;
    const wasListening = this.isListening;
    this.isListening = false;
    if (!client) return;
    if (wasListening)
      await bounded(
        client.query('UNLISTEN *').then(() => {}),
        CLOSE_STEP_MS,
      );
    await endClient(client);
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    const { channel, onNotify } = this.options;
    const client = new pg.Client({ ...this.options.connection, keepAlive: true });
    this.client = client;
    // Without an 'error' listener a dropped connection would crash the process.
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => {
      if (message.channel === channel) onNotify(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch {
      this.lost(client);
      return;
    }
    if (this.client !== client) {
      // Closed or replaced while connecting: this connection is nobody's, so end it here.
      await endClient(client);
      return;
    }
    this.isListening = true;
    this.delay = this.options.reconnectMinMs ?? 100;
    this.options.onListening?.();
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return; // an old connection's late event
    this.client = undefined;
    this.isListening = false;
    // Deliberately detached: the connection is already broken, end() only releases the socket.
    void endClient(client);
    if (this.closed) return;
    const delay = this.delay;
    this.delay = Math.min(delay * 2, this.options.reconnectMaxMs ?? 5_000);
    this.timer = setTimeout(() => void this.connect(), delay);
  }
}

/** How long one step of closing (UNLISTEN, end) may take before the socket is simply dropped. */
const CLOSE_STEP_MS = 1000;

/**
 * Ends a client without ever hanging: `end()` on a client still connecting to a server that is
 * down (or on a half-open socket) may never settle, which would stall whoever closes the
 * subscription. After a moment the socket is destroyed instead.
 */
async function endClient(client: pg.Client): Promise<void> {
  const ended = await bounded(
    client.end().then(
      () => true,
      () => true,
    ),
    CLOSE_STEP_MS,
  );
  if (ended) return;
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** `work`'s result, or undefined once `ms` have passed (its failure also gives undefined). */
async function bounded<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
