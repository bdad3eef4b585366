import { listeningUrl, upMessage } from '../src/site-url';

describe('the address the "up" line gives', () => {
  it('is where a browser on this machine reaches HOST and the port', () => {
    expect(listeningUrl('0.0.0.0', 3000)).toBe('http://localhost:3000');
    expect(listeningUrl('::', 3000)).toBe('http://localhost:3000');
    expect(listeningUrl('127.0.0.1', 8080)).toBe('http://127.0.0.1:8080');
    expect(listeningUrl('::1', 8080)).toBe('http://[::1]:8080');
    expect(listeningUrl('support.internal', 80)).toBe('http://support.internal:80');
  });

  it('is the port actually taken, PUBLIC_URL when it was set, and where topicdesk listens when that differs', () => {
    const defaults = { host: '0.0.0.0', port: 0, publicUrl: 'http://localhost:0' };
    expect(upMessage(defaults, 41234)).toEqual({ message: 'topicdesk is up at http://localhost:41234', url: 'http://localhost:41234' });
    expect(upMessage({ host: '0.0.0.0', port: 3000, publicUrl: 'https://help.example.com' }, 3000)).toEqual({
      message: 'topicdesk is up at https://help.example.com (listening on http://localhost:3000)',
      url: 'https://help.example.com',
    });
  });
});
