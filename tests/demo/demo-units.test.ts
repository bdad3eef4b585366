import path from 'node:path';
import { DemoConfigError, loadDemoConfig } from '../../src/demo/demo-config';
import { composeText } from '../../src/demo/staff-view/composer-text';

describe('loadDemoConfig', () => {
  it('defaults to loopback, port 3000, ./data/demo, and warnings only', () => {
    expect(loadDemoConfig({})).toEqual({
      port: 3000,
      host: '127.0.0.1',
      dataDir: path.resolve('data/demo'),
      logLevel: 'warn',
      publicUrl: 'http://127.0.0.1:3000',
      loopbackOnly: true,
    });
  });

  it('reads only its own variables: topicdesk settings meant for real use never reach the demo', () => {
    const config = loadDemoConfig({
      PORT: '8080',
      DATA_DIR: '/var/lib/topicdesk',
      HOST: '0.0.0.0',
      BOT_TOKEN: '1:x',
      DATABASE_URL: 'postgres://x',
    });
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', dataDir: path.resolve('data/demo') });
  });

  it('links name an address a browser can open, and a host beyond loopback is marked so', () => {
    expect(loadDemoConfig({ DEMO_HOST: '0.0.0.0', DEMO_PORT: '4000' })).toMatchObject({
      publicUrl: 'http://127.0.0.1:4000',
      loopbackOnly: false,
    });
    expect(loadDemoConfig({ DEMO_HOST: '::1' })).toMatchObject({ publicUrl: 'http://[::1]:3000', loopbackOnly: true });
    expect(loadDemoConfig({ DEMO_HOST: 'localhost' })).toMatchObject({ publicUrl: 'http://localhost:3000', loopbackOnly: true });
    expect(loadDemoConfig({ DEMO_HOST: '192.168.1.5' }).loopbackOnly).toBe(false);
  });

  it('names every bad variable, one line each', () => {
    let error: unknown;
    try {
      loadDemoConfig({ DEMO_PORT: '70000', LOG_LEVEL: 'chatty', DEMO_HOST: 'a b' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DemoConfigError);
    expect((error as DemoConfigError).problems).toEqual([
      'DEMO_PORT: must be a port number (1-65535)',
      'DEMO_HOST: must be an IP address or a host name, such as 127.0.0.1',
      'LOG_LEVEL: must be one of error, warn, info, http, verbose, debug, silly',
    ]);
  });
});

describe('composeText (what the staff view sends, as Telegram Desktop does)', () => {
  it('turns markers into entities and keeps Telegram’s own detection outside code', () => {
    expect(composeText('  **bold** and __it__ ~~gone~~ ||secret|| `/code` /close  ')).toEqual({
      text: 'bold and it gone secret /code /close',
      entities: [
        { type: 'bold', offset: 0, length: 4 },
        { type: 'italic', offset: 9, length: 2 },
        { type: 'strikethrough', offset: 12, length: 4 },
        { type: 'spoiler', offset: 17, length: 6 },
        { type: 'code', offset: 24, length: 5 },
        { type: 'bot_command', offset: 30, length: 6 },
      ],
    });
  });

  it('nests, keeps pre blocks, and leaves lone markers as they are', () => {
    expect(composeText('**a __b__**')).toEqual({
      text: 'a b',
      entities: [
        { type: 'bold', offset: 0, length: 3 },
        { type: 'italic', offset: 2, length: 1 },
      ],
    });
    expect(composeText('```\nnpm ci\n```')).toEqual({ text: 'npm ci', entities: [{ type: 'pre', offset: 0, length: 6 }] });
    expect(composeText('2 ** 3 and a_b__c')).toEqual({ text: '2 ** 3 and a_b__c', entities: [] });
    expect(composeText('/start')).toEqual({ text: '/start', entities: [{ type: 'bot_command', offset: 0, length: 6 }] });
  });
});
