/**
 * The broken relying party (conformance/fixtures/broken-rp.ts) as a process, as a partner's CI starts its service: for the CI
 * recipe's test (examples/ci/recipe.test.ts). TOOLKIT_ISSUER, CLIENT_ID, PRIVATE_KEY (a PEM file), PORT, DEFECTS (comma list).
 */
import fs from 'node:fs';
import { createBrokenRp, type Defect } from '../conformance/fixtures/broken-rp.ts';

const { TOOLKIT_ISSUER, CLIENT_ID, PRIVATE_KEY, PORT, DEFECTS } = process.env;
if (!TOOLKIT_ISSUER || !CLIENT_ID || !PRIVATE_KEY || !PORT) throw new Error('TOOLKIT_ISSUER, CLIENT_ID, PRIVATE_KEY and PORT are needed');
const app = await createBrokenRp({
  issuer: TOOLKIT_ISSUER,
  clientId: CLIENT_ID,
  privateKeyPem: fs.readFileSync(PRIVATE_KEY, 'utf8'),
  redirectUri: `http://localhost:${PORT}/callback`,
  defects: (DEFECTS ?? '').split(',').filter(Boolean) as Defect[],
});
await app.listen({ port: Number(PORT), host: '127.0.0.1' });
