import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectVisitor, type VisitorClient } from '../support/harness';
import { demoDataDir, readStaffFeed, runDemoToExit, startDemoProcess, type DemoProcess } from '../support/demo-process';
import { makePng } from '../support/media-samples';
import { startServerProcess } from '../support/server-process';

/**
 * `npm run demo` as a person runs it (dist/src/demo/main.js in its own process):
 * start-up, /health, stopping, configuration mistakes, and the staff view's API
 * read with plain HTTP clients. The page itself is driven in tests/browser/demo.test.ts.
 */
jest.setTimeout(60_000);

/** What the visitor's socket receives (docs/protocol.md), as far as these tests read it. */
interface StaffMessage {
  sender: string;
  text: string | null;
  attachment: { kind: string } | null;
}

/** Any bot token (the demo's is random); a Bot API file URL would carry one. */
const TOKEN_LIKE = /\d{5,}:[A-Za-z0-9_-]{20,}|\/file\/bot/;

describe('npm run demo: start and stop', () => {
  it('is up within seconds on loopback, prints the two URLs, and /health says telegram "ok"; SIGTERM stops it cleanly', async () => {
    const startedAt = Date.now();
    const demo = await startDemoProcess();
    try {
      // A fresh start (migrations, the emulator, the bot answering its first update) is quick.
      expect(Date.now() - startedAt).toBeLessThan(10_000);
      expect(demo.visitorUrl).toBe(`http://127.0.0.1:${demo.port}/`);
      expect(demo.staffViewUrl).toBe(`http://127.0.0.1:${demo.port}/demo/staff`);
      expect(demo.output()).toContain('Only this machine can reach them: the staff view has no sign-in.');
      expect(demo.output()).toContain(`Data: ${demo.dataDir} (emptied on every start)`);

      const health = await fetch(`${demo.origin}/health`).then((r) => r.json());
      expect(health).toMatchObject({ status: 'ok', db: 'ok', telegram: 'ok', outbox: 0 });

      const page = await fetch(demo.staffViewUrl);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      const script = /<script src="(build\/staff-view\.js\?v=[0-9a-f]{12})" defer><\/script>/.exec(html);
      expect(script).not.toBeNull();
      expect((await fetch(`${demo.origin}/demo/${script![1]}`)).status).toBe(200);
      expect((await fetch(demo.visitorUrl)).status).toBe(200);
      expect(fs.existsSync(path.join(demo.dataDir, 'topicdesk.sqlite3'))).toBe(true);
      // It listens on loopback only.
      const elsewhere = Object.values(os.networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      if (elsewhere) await expect(connects(elsewhere.address, demo.port)).resolves.toBe(false);
    } finally {
      expect(await demo.stop('SIGTERM')).toBe(0);
    }
    expect(demo.output()).toContain('topicdesk demo: stopped');
    await expect(connects('127.0.0.1', demo.port)).resolves.toBe(false);
  });

  it('Ctrl-C (SIGINT, twice as under npm) stops it cleanly too, and the next start begins afresh in the same folder', async () => {
    const dataDir = demoDataDir();
    const first = await startDemoProcess({ DEMO_DATA_DIR: dataDir });
    const visitor = await connectVisitor(first.origin);
    expect(((await visitor.send('from the first run')) as { ok: boolean }).ok).toBe(true);
    visitor.close();
    fs.writeFileSync(path.join(dataDir, 'left-over.txt'), 'an earlier run');
    // Ctrl-C under npm delivers SIGINT twice at once (the terminal's, and npm's forwarded one): still a clean stop.
    first.child.kill('SIGINT');
    expect(await first.stop('SIGINT')).toBe(0);
    expect(first.output()).not.toContain('stopping at once');

    const second = await startDemoProcess({ DEMO_DATA_DIR: dataDir });
    try {
      expect(fs.existsSync(path.join(dataDir, 'left-over.txt'))).toBe(false);
      const feed = await readStaffFeed(second.origin);
      const snapshot = await feed.snapshot();
      feed.close();
      expect(snapshot.topics).toEqual([]);
      expect(JSON.stringify(snapshot)).not.toContain('from the first run');
    } finally {
      await second.stop();
    }
  });
});

describe('npm run demo: configuration mistakes give one line and exit code 2', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    [
      'a port that is not a number',
      { DEMO_PORT: 'eighty' },
      /^topicdesk demo: configuration error: DEMO_PORT: must be a port number \(1-65535\)$/,
    ],
    ['port 0', { DEMO_PORT: '0' }, /^topicdesk demo: configuration error: DEMO_PORT: must be a port number \(1-65535\)$/],
    [
      'an unknown log level',
      { DEMO_PORT: '3999', LOG_LEVEL: 'loud' },
      /^topicdesk demo: configuration error: LOG_LEVEL: must be one of error, warn/,
    ],
    [
      'a host that is no host',
      { DEMO_PORT: '3999', DEMO_HOST: 'not a host!' },
      /^topicdesk demo: configuration error: DEMO_HOST: must be an IP address or a host name/,
    ],
  ];
  it.each(cases)('%s', async (_title, env, line) => {
    const { code, stdout, stderr } = await runDemoToExit({ DEMO_DATA_DIR: demoDataDir(), ...env });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr.trim()).toMatch(line);
  });

  it('a data folder that holds something else is refused and left as it is', async () => {
    const dataDir = demoDataDir();
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'topicdesk.sqlite3'), 'real data');
    const { code, stderr } = await runDemoToExit({ DEMO_PORT: '3999', DEMO_DATA_DIR: dataDir });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      `topicdesk demo: configuration error: DEMO_DATA_DIR: ${dataDir} holds files that are not from a demo; the demo empties its folder on every start, so choose a new or empty one`,
    );
    expect(fs.readFileSync(path.join(dataDir, 'topicdesk.sqlite3'), 'utf8')).toBe('real data');
  });

  it('a port in use names DEMO_PORT, before the data folder (perhaps that of the demo running there) is touched', async () => {
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      const dataDir = demoDataDir();
      fs.mkdirSync(dataDir, { recursive: true });
      fs.writeFileSync(path.join(dataDir, '.topicdesk-demo'), '');
      fs.writeFileSync(path.join(dataDir, 'topicdesk.sqlite3'), 'the running demo');
      const { code, stderr } = await runDemoToExit({ DEMO_PORT: String(port), DEMO_DATA_DIR: dataDir });
      expect(code).toBe(2);
      expect(stderr.trim()).toBe(
        `topicdesk demo: DEMO_PORT: port ${port} is already in use; choose a free one, e.g. DEMO_PORT=${port + 100} npm run demo`,
      );
      expect(fs.readFileSync(path.join(dataDir, 'topicdesk.sqlite3'), 'utf8')).toBe('the running demo');
    } finally {
      busy.close();
    }
  });
});

describe('the staff view API (what the page uses), over plain HTTP', () => {
  let demo: DemoProcess;
  const visitors: VisitorClient[] = [];

  beforeAll(async () => {
    demo = await startDemoProcess();
  });
  afterAll(async () => {
    for (const v of visitors) v.close();
    await demo?.stop();
  });

  const post = (route: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${demo.origin}/demo/api${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Origin: demo.origin, ...headers },
      body: JSON.stringify(body),
    });
  const sentId = async (res: Response): Promise<number> => {
    expect([200, 201]).toContain(res.status);
    return ((await res.json()) as { messageId: number }).messageId;
  };
  const postFile = (fields: Record<string, string>, file: Blob, name: string) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.set(k, v);
    form.set('file', file, name);
    return fetch(`${demo.origin}/demo/api/send-file`, { method: 'POST', headers: { Origin: demo.origin }, body: form });
  };

  it('the snapshot shows the staff member, the bot, the group, its command menu and the private chat they started', async () => {
    const feed = await readStaffFeed(demo.origin);
    const snapshot = await feed.snapshot();
    feed.close();
    expect(snapshot.me).toEqual({ id: expect.any(Number) as number, name: 'Alex Morgan', username: 'alex_support', isBot: false });
    expect(snapshot.bot).toMatchObject({ name: 'topicdesk', username: 'topicdesk_demo_bot_not_on_telegram', isBot: true });
    expect(snapshot.group).toEqual({ title: 'Support team', id: expect.any(Number) as number });
    expect(snapshot.commands.group.map((c) => c.command)).toEqual(
      expect.arrayContaining(['close', 'reopen', 'info', 'threads', 'web', 'help']),
    );
    const privateChat = snapshot.messages.filter((m) => m.conversation === 'private');
    expect(privateChat.map((m) => [m.from?.isBot, m.text?.slice(0, 6)])).toEqual([
      [false, '/start'],
      [true, expect.any(String) as string],
    ]);
    // Nothing is news at the start.
    expect(snapshot.readUpTo.private).toBe(privateChat[1].id);
    expect(JSON.stringify(snapshot)).not.toMatch(TOKEN_LIKE);
    // A Turkish page gets the Turkish menu.
    const tr = await readStaffFeed(demo.origin, 'tr');
    const trSnapshot = await tr.snapshot();
    tr.close();
    const closeIn = (list: typeof snapshot.commands.group) => list.find((c) => c.command === 'close')?.description;
    expect(closeIn(trSnapshot.commands.group)).not.toBe(closeIn(snapshot.commands.group));
  });

  it('a typed command is a real bot_command the bot answers; formatting markers become entities', async () => {
    const feed = await readStaffFeed(demo.origin);
    await feed.snapshot();
    const messageId = await sentId(await post('/send', { conversation: 'general', text: '/help' }));
    const mine = await feed.message((m) => m.id === messageId);
    expect(mine).toMatchObject({ conversation: 'general', text: '/help', entities: [{ type: 'bot_command', offset: 0, length: 5 }] });
    const answer = await feed.message((m) => m.id > messageId && m.from?.isBot === true, 'the bot answers /help');
    expect(answer.conversation).toBe('general');
    expect(answer.text).toContain('/close');

    const boldId = await sentId(
      await post('/send', { conversation: 'general', text: '**Heads up:** `code` stays, see https://example.com' }),
    );
    const formatted = await feed.message((m) => m.id === boldId);
    expect(formatted.text).toBe('Heads up: code stays, see https://example.com');
    expect(formatted.entities).toEqual([
      { type: 'bold', offset: 0, length: 9 },
      { type: 'code', offset: 10, length: 4 },
      { type: 'url', offset: 26, length: 19 },
    ]);
    feed.close();
  });

  it('a visitor message makes a topic; read marks, replies and edits work; files come back byte for byte without a token', async () => {
    const feed = await readStaffFeed(demo.origin);
    await feed.snapshot();
    const visitor = await connectVisitor(demo.origin);
    visitors.push(visitor);
    await visitor.send('Where is my parcel?');
    const topic = await feed.topic();
    expect(topic).toMatchObject({ name: expect.stringMatching(/^Visitor #\d+ · /) as string, closed: false, deleted: false });
    const conversation = `topic:${topic.id}`;
    const posted = await feed.message((m) => m.conversation === conversation && m.text === 'Where is my parcel?');

    expect((await post('/read', { conversation, messageId: posted.id })).status).toBe(204);
    const read = await feed.waitFor((e) => (e.type === 'read' && e.conversation === conversation ? e.messageId : undefined), 'read');
    expect(read).toBe(posted.id);

    const replyId = await sentId(await post('/send', { conversation, text: 'On its way', replyTo: posted.id }));
    const replied = await feed.message((m) => m.id === replyId);
    expect(replied.replyTo).toEqual({ id: posted.id, from: 'topicdesk', text: 'Where is my parcel?', mediaKind: null });
    await visitor.waitFor('message', (m: StaffMessage) => m.sender === 'staff' && m.text === 'On its way');

    await sentId(await post('/edit', { conversation, messageId: replyId, text: 'On its way: due Friday' }));
    const edited = await feed.message((m) => m.id === replyId && m.edited);
    expect(edited.text).toBe('On its way: due Friday');
    await visitor.waitFor('message:update', (m: StaffMessage) => m.text === 'On its way: due Friday');

    const png = makePng(64, 48);
    const photoId = await sentId(
      await postFile(
        { conversation, kind: 'photo', caption: 'the label', width: '64', height: '48' },
        new Blob([png], { type: 'image/png' }),
        'label.png',
      ),
    );
    const shown = await feed.message((m) => m.id === photoId);
    expect(shown.media).toMatchObject({ kind: 'photo', width: 64, height: 48 });
    expect(shown.text).toBe('the label');
    const image = await fetch(`${demo.origin}${shown.media!.url}`);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(Buffer.from(await image.arrayBuffer()).equals(png)).toBe(true);
    await visitor.waitFor('message', (m: StaffMessage) => m.sender === 'staff' && m.attachment?.kind === 'image' && m.text === 'the label');

    const docId = await sentId(
      await postFile({ conversation, kind: 'document' }, new Blob(['<script>alert(1)</script>'], { type: 'text/html' }), 'page.html'),
    );
    const document = await feed.message((m) => m.id === docId);
    expect(document.media).toMatchObject({ kind: 'document', fileName: 'page.html', size: 25 });
    const download = await fetch(`${demo.origin}${document.media!.url}`);
    // Anything that is not a picture, sound or video is a download, never a page of this site.
    expect(download.headers.get('content-disposition')).toBe("attachment; filename*=UTF-8''page.html");
    expect(await download.text()).toBe('<script>alert(1)</script>');
    expect(JSON.stringify(feed.events)).not.toMatch(TOKEN_LIKE);
    feed.close();
  });

  it('refuses what it cannot do with a clear error, and changes nothing', async () => {
    const feed = await readStaffFeed(demo.origin);
    const snapshot = await feed.snapshot();
    const refused = async (res: Response, status: number, message: string | RegExp) => {
      expect(res.status).toBe(status);
      const body = (await res.json()) as { error: { message: string } };
      if (typeof message === 'string') expect(body.error.message).toBe(message);
      else expect(body.error.message).toMatch(message);
    };
    await refused(
      await post('/send', { conversation: 'everyone', text: 'hi' }),
      400,
      'conversation must be "general", "private" or "topic:<id>"',
    );
    await refused(await post('/send', { conversation: 'topic:999999', text: 'hi' }), 404, 'That topic does not exist (any more).');
    await refused(await post('/send', { conversation: 'general', text: '   ' }), 400, 'Write something first.');
    await refused(await post('/send', { conversation: 'general', text: 'x'.repeat(4097) }), 400, 'a message is at most 4096 characters');
    await refused(
      await post('/send', { conversation: 'general', text: 'hi', replyTo: 999999 }),
      404,
      'That message is not in this chat (any more).',
    );
    const botMessage = snapshot.messages.find((m) => m.from?.isBot)!;
    await refused(
      await post('/edit', { conversation: botMessage.conversation, messageId: botMessage.id, text: 'mine now' }),
      403,
      'You can edit only your own text messages.',
    );
    await refused(
      await post('/press', { conversation: botMessage.conversation, messageId: botMessage.id, data: 'threads:1' }),
      400,
      'That button is no longer there.',
    );
    // Another site cannot act as staff, nor reach the page through a name of its own (DNS rebinding).
    await refused(await post('/send', { conversation: 'general', text: 'hi' }, { Origin: 'http://evil.example' }), 403, /own page/);
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port: demo.port, path: '/demo/api/events', headers: { Host: `evil.example:${demo.port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(421);
    await refused(
      await postFile({ conversation: 'general', kind: 'document' }, new Blob([Buffer.alloc(20 * 1024 * 1024 + 1)]), 'big.bin'),
      413,
      'That file is too large: up to 20 MB.',
    );
    await refused(
      await postFile({ conversation: 'general', kind: 'photo' }, new Blob(['text']), 'notes.txt'),
      415,
      'Only pictures can be sent as a photo.',
    );
    expect((await fetch(`${demo.origin}/demo/api/nothing`)).status).toBe(404);
    // None of it reached the emulated Telegram.
    expect(feed.messages()).toEqual([]);
    feed.close();
  });
});

describe('npm start never serves the staff view', () => {
  it('its page, assets and API are 404 on a normal server', async () => {
    const server = await startServerProcess({ DATA_DIR: demoDataDir() });
    try {
      for (const route of [
        '/demo/staff',
        '/demo/',
        '/demo/staff.html',
        '/demo/staff.css',
        '/demo/build/staff-view.js',
        '/demo/api/events',
      ]) {
        const res = await fetch(`${server.url}${route}`);
        expect([route, res.status]).toEqual([route, 404]);
        await res.body?.cancel();
      }
      const send = await fetch(`${server.url}/demo/api/send`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ conversation: 'general', text: 'hi' }),
      });
      expect(send.status).toBe(404);
    } finally {
      await server.stop();
    }
  });
});

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
