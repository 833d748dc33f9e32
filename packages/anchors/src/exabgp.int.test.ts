import { readFileSync } from 'node:fs';
import { requireCommand, requireRoot } from '@margay/testkit';
import { startBird2 } from './bird';
import type { RunningDaemon } from './daemon';
import { type ExabgpSpec, startExabgp } from './exabgp';
import { peeringSpecs, stopAll } from './interop-helpers';

const started: RunningDaemon[] = [];

beforeAll(() => {
  requireRoot('ExaBGP interop');
  requireCommand('bird', 'bird2');
  requireCommand('exabgp', 'exabgp');
});

afterAll(() => stopAll(started));

test('ExaBGP announces to BIRD 2, and BIRD treats a 5-byte MED as withdraw while the session stays up (RFC 7606)', async () => {
  const [exabgpPeering, birdSpec] = await peeringSpecs({ asNumbers: [65006, 65001] });
  const exabgpSpec: ExabgpSpec = { ...exabgpPeering };
  exabgpSpec.originate = [
    { prefix: '10.207.1.0/24', nextHop: '198.51.100.6' },
    // A well-formed MED written as raw bytes: proves raw attributes reach the wire as given.
    {
      prefix: '10.207.2.0/24',
      nextHop: '198.51.100.6',
      attributes: [{ type: 0x04, flags: 0x80, value: '00000064' }],
    },
  ];
  birdSpec.originate = ['10.207.9.0/24'];
  const bird = await startBird2(birdSpec);
  started.push(bird);
  const exabgp = await startExabgp(exabgpSpec);
  started.push(exabgp);

  expect(await bird.waitForRoute('10.207.1.0/24')).toMatchObject({
    nextHop: '198.51.100.6',
    asPath: [65006],
  });
  expect(await bird.waitForRoute('10.207.2.0/24')).toMatchObject({ med: 100 });
  expect(await exabgp.waitForRoute('10.207.9.0/24')).toMatchObject({ asPath: [65001] });
  expect(await exabgp.peers()).toEqual([{ address: birdSpec.listen.address, state: 'Established' }]);

  // MULTI_EXIT_DISC must be 4 bytes; 5 makes the UPDATE malformed: treat-as-withdraw, no reset.
  await exabgp.announce({
    prefix: '10.207.2.0/24',
    nextHop: '198.51.100.6',
    attributes: [{ type: 0x04, flags: 0x80, value: '0000000064' }],
  });
  await bird.waitFor(
    async () => !(await bird.routes()).some((r) => r.prefix === '10.207.2.0/24'),
    'treat-as-withdraw',
  );
  expect(readFileSync(bird.logFile, 'utf8')).toMatch(
    /Malformed MULTI_EXIT_DISC attribute - invalid length \(5\)/,
  );
  await exabgp.announce({ prefix: '10.207.3.0/24', nextHop: '198.51.100.6' });
  await bird.waitForRoute('10.207.3.0/24');
  expect(await bird.peers()).toEqual([{ address: exabgpSpec.listen.address, state: 'Established' }]);
  expect((await bird.routes()).map((r) => r.prefix).sort()).toEqual(['10.207.1.0/24', '10.207.3.0/24']);

  await exabgp.withdraw('10.207.1.0/24');
  await bird.waitFor(
    async () => !(await bird.routes()).some((r) => r.prefix === '10.207.1.0/24'),
    'withdrawal',
  );
});
