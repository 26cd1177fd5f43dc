/**
 * The leader's dispatch endpoint: workers in other processes pull work over HTTP long-poll (see
 * protocol.ts), authenticated with the cluster token. Every scheduler process listens; only the
 * one that leads answers polls — the others answer 503 with the leader's address — so a worker
 * that reached an old leader learns at once where to go.
 *
 * Items a poll took from the dispatcher but could not deliver (the worker hung up while the
 * answer was on its way) are given back to the dispatcher. A worker that aborts a poll (a slot
 * freed up, so it polls again at once with more credits) cannot know whether an answer was
 * already under way; it names the aborted poll in its next poll's `discarded`, and what that
 * answer carried is handed out again. Items delivered to a worker that dies before claiming them
 * are handed out again when the registry drops the worker, or after the dispatcher's claim
 * timeout.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../observability/logger.js';
import type { Dispatcher } from '../dispatcher.js';
import type { PollResult } from '../work-source.js';
import {
  leaveRequestSchema,
  MAX_REQUEST_BYTES,
  MAX_WAIT_MS,
  type PollResponse,
  pollRequestSchema,
  type StatusResponse,
} from './protocol.js';

/** What the dispatch endpoint serves while this process leads. */
export interface DispatchTarget {
  readonly term: number;
  readonly dispatcher: Dispatcher;
  /** Workers the registry knows as live: only they may pull work. */
  isRegistered(workerId: string): boolean;
  activeRuns(): number;
  /** A worker said it is leaving (it drains): not a lost one. */
  onLeave(workerId: string): void;
}

export interface DispatchServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly log: Logger;
}

export class DispatchServer {
  private target: DispatchTarget | undefined;
  private leaderAddress: string | undefined;
  private server: Server | undefined;
  private readonly tokenDigest: Buffer;
  private readonly polls = new Set<AbortController>();
  /** Recent non-empty answers by poll id (insertion order is age order). */
  private readonly answered = new Map<
    string,
    { workerId: string; target: DispatchTarget; result: PollResult; at: number }
  >();

  constructor(private readonly options: DispatchServerOptions) {
    this.tokenDigest = digest(options.token);
  }

  async listen(): Promise<{ url: string; port: number }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        this.options.log.error('dispatch request failed', { error: String(error) });
        if (!res.headersSent) send(res, 500, { code: 'internal', message: 'internal error' });
        else res.destroy();
      });
    });
    server.requestTimeout = MAX_WAIT_MS + 10_000;
    server.headersTimeout = 10_000;
    server.keepAliveTimeout = MAX_WAIT_MS + 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port, this.options.host, () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return { url: `http://${host}:${port}`, port };
  }

  /** Serve polls for `target` (this process leads now). */
  lead(target: DispatchTarget): void {
    this.target = target;
  }

  /** Stop serving polls; answer 503 naming `leader` (when known). Ends the polls waiting now. */
  follow(leader?: string): void {
    this.target = undefined;
    this.leaderAddress = leader;
    for (const poll of this.polls) poll.abort();
  }

  async close(): Promise<void> {
    this.follow();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!this.authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="dagrun-dispatch"');
      send(res, 401, { code: 'unauthorized', message: 'a valid cluster token is required' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    const route = `${req.method} ${path}`;
    if (route === 'GET /v1/status') {
      this.status(res);
      return;
    }
    if (route === 'POST /v1/poll') {
      await this.poll(req, res);
      return;
    }
    if (route === 'POST /v1/leave') {
      await this.leave(req, res);
      return;
    }
    send(res, 404, { code: 'not_found', message: `no route ${route}` });
    return;
  }

  private notLeading(res: ServerResponse): void {
    send(res, 503, {
      code: 'not_leader',
      message: 'this scheduler does not lead',
      leader: this.leaderAddress,
    });
  }

  private status(res: ServerResponse): void {
    const target = this.target;
    if (!target) {
      this.notLeading(res);
      return;
    }
    const body: StatusResponse = {
      term: target.term,
      backlog: target.dispatcher.backlog,
      budget: target.dispatcher.budget(),
      activeRuns: target.activeRuns(),
      workers: [...target.dispatcher.liveWorkers()],
    };
    send(res, 200, body);
  }

  private async poll(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const parsed = pollRequestSchema.safeParse(body);
    if (!parsed.success) {
      send(res, 400, { code: 'invalid_request', message: parsed.error.message });
      return;
    }
    const { worker, credits, waitMs, pollId, discarded } = parsed.data;
    const target = this.target;
    if (!target) {
      this.notLeading(res);
      return;
    }
    if (!target.isRegistered(worker.id)) {
      return send(res, 409, {
        code: 'not_registered',
        message: `worker ${worker.id} is not in the registry (yet); register, then poll`,
      });
    }
    const { dispatcher } = target;
    if (!dispatcher.liveWorkers().has(worker.id)) await dispatcher.join(worker);
    for (const id of discarded) {
      const answered = this.answered.get(id);
      this.answered.delete(id);
      // Claimed items are settled already; giveBack re-queues only what is still handed out.
      if (answered?.workerId === worker.id && answered.target === target)
        dispatcher.giveBack(worker.id, answered.result);
    }
    const abort = new AbortController();
    const hungUp = () => {
      if (!res.writableEnded) abort.abort();
    };
    res.once('close', hungUp);
    this.polls.add(abort);
    let result: PollResult;
    try {
      result = await dispatcher.poll(worker.id, credits, { waitMs, signal: abort.signal });
    } finally {
      this.polls.delete(abort);
    }
    if (this.target !== target) {
      // Leadership ended while the poll waited: what it took belongs to no one now.
      this.notLeading(res);
      return;
    }
    if (abort.signal.aborted && res.destroyed) {
      dispatcher.giveBack(worker.id, result);
      return;
    }
    if (result.items.length > 0 || result.cancel.length > 0) this.remember(pollId, worker.id, target, result);
    const answer: PollResponse = { term: target.term, items: result.items, cancel: result.cancel };
    const payload = JSON.stringify(answer);
    res.off('close', hungUp);
    res.once('close', () => {
      if (!res.writableFinished) dispatcher.giveBack(worker.id, result);
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  }

  private async leave(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req, res);
    if (body === undefined) return;
    const parsed = leaveRequestSchema.safeParse(body);
    if (!parsed.success) {
      send(res, 400, { code: 'invalid_request', message: parsed.error.message });
      return;
    }
    const target = this.target;
    if (!target) {
      this.notLeading(res);
      return;
    }
    target.onLeave(parsed.data.workerId);
    await target.dispatcher.leave(parsed.data.workerId);
    send(res, 200, {});
  }

  /** Keeps a poll's answer for a while, in case the worker reports it discarded. */
  private remember(pollId: string, workerId: string, target: DispatchTarget, result: PollResult): void {
    this.answered.set(pollId, { workerId, target, result, at: Date.now() });
    if (this.answered.size <= MAX_REMEMBERED) return;
    const cutoff = Date.now() - REMEMBER_MS;
    for (const [id, entry] of this.answered) {
      if (entry.at > cutoff && this.answered.size <= MAX_REMEMBERED) break;
      this.answered.delete(id);
    }
  }

  private authorized(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match?.[1]) return false;
    // Compare digests: equal length, constant time, whatever was sent.
    return timingSafeEqual(digest(match[1]), this.tokenDigest);
  }
}

/** How many answered polls are remembered, and for how long at least, for `discarded`. */
const MAX_REMEMBERED = 10_000;
const REMEMBER_MS = 120_000;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

/** The request's JSON body, or undefined after answering 413/400/415. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (!type.startsWith('application/json')) {
    send(res, 415, { code: 'unsupported_media_type', message: 'send application/json' });
    req.resume();
    return undefined;
  }
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_REQUEST_BYTES) {
    send(res, 413, { code: 'payload_too_large', message: `at most ${MAX_REQUEST_BYTES} bytes` });
    req.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      send(res, 413, { code: 'payload_too_large', message: `at most ${MAX_REQUEST_BYTES} bytes` });
      req.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    send(res, 400, { code: 'invalid_json', message: 'the body is not JSON' });
    return undefined;
  }
}
