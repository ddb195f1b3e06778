/**
 * Slow and idle clients against the server's connection limits (FIELDKEEP_HEADERS_TIMEOUT_MS,
 * FIELDKEEP_REQUEST_TIMEOUT_MS, FIELDKEEP_IDLE_TIMEOUT_MS, FIELDKEEP_MAX_CONNECTIONS), set small here
 * so the test is quick. Raw sockets, so nothing on the client side times out first:
 * - headers dribbled a byte at a time: every such connection is closed once the headers timeout
 *   passes, and meanwhile a normal client is served;
 * - a submission body dribbled a byte at a time: closed (408) once the request timeout passes,
 *   and meanwhile a normal submission is stored;
 * - more silent connections than the limit: the server holds at most the limit, closes the rest
 *   at once, closes the ones it holds when they time out, and then serves normal clients again;
 * - the server's resident memory stays within a bound throughout.
 */
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScratchStorage, describeEachDatabase, type ScratchStorage } from '../support/databases.js';
import { makeSubmission, postSubmission, publishForm, seedInstance, type FaultInstance } from './support/instance.js';
import { bundleServer, startServerProcess, type ServerBundle, type ServerProcess } from './support/server-process.js';

const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 3000;
const IDLE_TIMEOUT_MS = 2000;
const MAX_CONNECTIONS = 32;
/** Slow clients at once: fewer than the limit, so a normal client still finds a place. */
const SLOW_CLIENTS = 24;
const DRIBBLE_EVERY_MS = 200;
/** Node checks the deadlines at an interval, and a loaded machine adds its own delay. */
const DEADLINE_SLACK_MS = 3000;
const RSS_GROWTH_BOUND_BYTES = 64 * 1024 * 1024;

interface SlowClient {
  socket: Socket;
  openedAt: number;
  closedAt: number | undefined;
  /** The first line the server sent before closing, if any (e.g. `HTTP/1.1 408 Request Timeout`). */
  firstLine: string | undefined;
  stop(): void;
}

/** Connects and sends `head` at once, then one byte of `dribble` every DRIBBLE_EVERY_MS until closed. */
function slowClient(url: string, head: string, dribble: Buffer): Promise<SlowClient> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let received = '';
    let timer: NodeJS.Timeout | undefined;
    const client: SlowClient = { socket, openedAt: Date.now(), closedAt: undefined, firstLine: undefined, stop: () => clearInterval(timer) };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      client.firstLine ??= received.includes('\r\n') ? received.split('\r\n')[0] : undefined;
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      client.closedAt = Date.now();
      clearInterval(timer);
    });
    socket.once('connect', () => {
      client.openedAt = Date.now();
      if (head) socket.write(head);
      let at = 0;
      if (dribble.length > 0) {
        timer = setInterval(() => {
          if (!socket.destroyed) socket.write(dribble.subarray(at % dribble.length, (at % dribble.length) + 1));
          at += 1;
        }, DRIBBLE_EVERY_MS);
      }
      resolve(client);
    });
    socket.once('error', reject);
  });
}

async function allClosed(clients: readonly SlowClient[], limitMs: number): Promise<void> {
  const start = Date.now();
  while (clients.some((c) => c.closedAt === undefined) && Date.now() - start < limitMs) await sleep(50);
}

describeEachDatabase('slow and idle clients', (kind) => {
  let bundle: ServerBundle;
  let storage: ScratchStorage;
  let server: ServerProcess;
  let instance: FaultInstance;
  let baselineRss = 0;
  let peakRss = 0;
  let sampler: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    [bundle, storage] = await Promise.all([bundleServer(), createScratchStorage(kind)]);
    instance = await seedInstance(
      {
        ...storage.env,
        FIELDKEEP_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        FIELDKEEP_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        FIELDKEEP_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        FIELDKEEP_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      },
      storage.dataDir,
    );
    server = await startServerProcess(bundle, instance.env);
    await publishForm(instance, server.url);
    baselineRss = server.rssBytes();
    peakRss = baselineRss;
    sampler = setInterval(() => {
      peakRss = Math.max(peakRss, server.rssBytes());
    }, 50);
  }, 180_000);

  afterAll(async () => {
    clearInterval(sampler);
    await server?.stop();
    await storage?.drop();
    bundle?.remove();
  });

  const normalSubmission = async (batch: number) => {
    const response = await postSubmission(instance, server.url, makeSubmission(batch, 0, 4096, 1024));
    return response.status;
  };

  it('closes connections that dribble their headers once the headers timeout passes, and serves a normal client meanwhile', async () => {
    const head = `POST /projects/${instance.projectId}/submission HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
    const clients = await Promise.all(Array.from({ length: SLOW_CLIENTS }, () => slowClient(server.url, head, Buffer.from('X-Slow-Header: ' + 'a'.repeat(64)))));
    await sleep(HEADERS_TIMEOUT_MS / 2);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await normalSubmission(1)).toBe(201);
    await allClosed(clients, HEADERS_TIMEOUT_MS + DEADLINE_SLACK_MS);
    for (const client of clients) client.stop();
    const heldMs = clients.map((c) => (c.closedAt ?? Infinity) - c.openedAt);
    console.log(JSON.stringify({ suite: 'slowloris', database: kind, case: 'slow-headers', clients: clients.length, heldMsMax: Math.max(...heldMs), heldMsMin: Math.min(...heldMs), answers: [...new Set(clients.map((c) => c.firstLine))] }));
    expect(clients.filter((c) => c.closedAt === undefined), 'connections still open').toHaveLength(0);
    expect(Math.min(...heldMs), 'not closed before the timeout').toBeGreaterThanOrEqual(HEADERS_TIMEOUT_MS - 100);
  }, 60_000);

  it('closes connections that dribble a submission body once the request timeout passes (408), and stores a normal submission meanwhile', async () => {
    const boundary = 'slowloris';
    const head =
      `POST /projects/${instance.projectId}/submission HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${instance.headers.authorization}\r\n` +
      `X-OpenRosa-Version: 1.0\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 1000000\r\n\r\n` +
      `--${boundary}\r\nContent-Disposition: form-data; name="photo.jpg"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
    const clients = await Promise.all(Array.from({ length: SLOW_CLIENTS }, () => slowClient(server.url, head, Buffer.from('0123456789abcdef'))));
    await sleep(REQUEST_TIMEOUT_MS / 2);
    expect(await normalSubmission(2)).toBe(201);
    await allClosed(clients, REQUEST_TIMEOUT_MS + DEADLINE_SLACK_MS);
    for (const client of clients) client.stop();
    const heldMs = clients.map((c) => (c.closedAt ?? Infinity) - c.openedAt);
    const answers = [...new Set(clients.map((c) => c.firstLine))];
    console.log(JSON.stringify({ suite: 'slowloris', database: kind, case: 'slow-body', clients: clients.length, heldMsMax: Math.max(...heldMs), heldMsMin: Math.min(...heldMs), answers }));
    expect(clients.filter((c) => c.closedAt === undefined), 'connections still open').toHaveLength(0);
    expect(Math.min(...heldMs), 'not closed before the timeout').toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 100);
    expect(answers.every((line) => line === undefined || /^HTTP\/1\.1 408 /.test(line)), `answers: ${answers.join(', ')}`).toBe(true);
    expect(await normalSubmission(3)).toBe(201);
  }, 60_000);

  it('holds at most FIELDKEEP_MAX_CONNECTIONS connections, closes idle ones when they time out, then serves normal clients again', async () => {
    const flood = await Promise.all(Array.from({ length: MAX_CONNECTIONS * 3 }, () => slowClient(server.url, '', Buffer.alloc(0))));
    await sleep(300);
    const heldByServer = flood.filter((c) => c.closedAt === undefined).length;
    const serverSockets = server.openSockets();
    await allClosed(flood, Math.max(HEADERS_TIMEOUT_MS, IDLE_TIMEOUT_MS) + DEADLINE_SLACK_MS);
    const heldMs = flood.map((c) => (c.closedAt ?? Infinity) - c.openedAt);
    console.log(JSON.stringify({ suite: 'slowloris', database: kind, case: 'connection-flood', opened: flood.length, limit: MAX_CONNECTIONS, heldByServer, serverSockets, heldMsMax: Math.max(...heldMs) }));
    expect(heldByServer, 'connections the server kept open').toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(heldByServer, 'the server did take connections up to its limit').toBeGreaterThan(0);
    expect(flood.filter((c) => c.closedAt === undefined), 'idle connections still open').toHaveLength(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect(await normalSubmission(4)).toBe(201);
  }, 60_000);

  it('kept its resident memory within a bound through all of it', () => {
    console.log(JSON.stringify({ suite: 'slowloris', database: kind, case: 'memory', baselineMb: Math.round(baselineRss / 2 ** 20), peakMb: Math.round(peakRss / 2 ** 20) }));
    expect(peakRss - baselineRss).toBeLessThan(RSS_GROWTH_BOUND_BYTES);
  });
});
