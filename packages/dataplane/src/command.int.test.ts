import { getPriority } from 'node:os';
import { requireRoot } from '@margay/testkit';
import { ProcessRunner } from './command';

// The command reads its own nice value (field 19 of /proc/<pid>/stat) after a moment, by when the
// runner has set it.
const OWN_NICE = ['sh', '-c', 'sleep 0.2; cut -d " " -f 19 /proc/$$/stat'];

describe('ProcessRunner', () => {
  beforeAll(() => requireRoot('ProcessRunner priority tests (a priority below 0 takes CAP_SYS_NICE)'));

  test('runs commands at the priority it was given, and at the default without one', async () => {
    expect((await new ProcessRunner({ priority: -10 }).run(OWN_NICE)).stdout.trim()).toBe('-10');
    expect((await new ProcessRunner({ priority: 5 }).run(OWN_NICE)).stdout.trim()).toBe('5');
    // Without one, the command keeps ours.
    expect((await new ProcessRunner().run(OWN_NICE)).stdout.trim()).toBe(String(getPriority()));
  });

  test('a priority out of range is refused, naming it', () => {
    expect(() => new ProcessRunner({ priority: -21 })).toThrow(
      'ProcessRunner priority -21 must be a whole number from -20 to 19',
    );
    expect(() => new ProcessRunner({ priority: 2.5 })).toThrow('priority 2.5');
  });
});
