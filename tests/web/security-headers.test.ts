import { startTopicdesk } from '../support/harness';
import { createTestDatabase } from '../support/test-database';

describe('security headers', () => {
  it.each([
    ['http://support.example.lan:3000', false],
    ['https://support.example.com', true],
  ])('with PUBLIC_URL %s, upgrade-insecure-requests is %s', async (publicUrl, upgrades) => {
    const db = await createTestDatabase('sqlite');
    const td = await startTopicdesk({ db, env: { PUBLIC_URL: publicUrl } });
    try {
      const res = await fetch(`${td.url}/`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("object-src 'none'");
      expect(csp.includes('upgrade-insecure-requests')).toBe(upgrades);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    } finally {
      await td.stop();
      await db.drop();
    }
  });
});
