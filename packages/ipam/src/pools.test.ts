import type { IPPool } from '@margay/api';
import { type Cidr, formatCidr, parseCidr } from './ip';
import { firstFreeBlock, type Pool } from './pools';

function pool(cidrText: string, blockSize: number): Pool {
  return { name: 'p', cidr: parseCidr(cidrText), cidrText, blockSize, resource: {} as IPPool };
}

const free = (p: Pool, existing: string[]) => {
  const block: Cidr | undefined = firstFreeBlock(p, existing.map(parseCidr));
  return block && formatCidr(block);
};

describe('firstFreeBlock', () => {
  test('takes the lowest block that overlaps no existing block', () => {
    const p = pool('10.0.0.0/24', 26);
    expect(free(p, [])).toBe('10.0.0.0/26');
    expect(free(p, ['10.0.0.0/26', '10.0.0.128/26'])).toBe('10.0.0.64/26');
    expect(free(p, ['10.0.0.128/26', '10.0.0.0/26', '10.0.0.64/26'])).toBe('10.0.0.192/26');
    expect(free(p, ['10.0.0.0/26', '10.0.0.64/26', '10.0.0.128/26', '10.0.0.192/26'])).toBeUndefined();
  });

  test('skips blocks of another size and ignores blocks outside the pool', () => {
    const p = pool('10.0.0.0/24', 26);
    expect(free(p, ['10.0.0.0/30', '10.0.0.64/27', '10.0.0.160/27', '9.0.0.0/8'])).toBe('10.0.0.192/26');
    expect(free(p, ['10.0.1.0/26', 'fd00::/122'])).toBe('10.0.0.0/26');
  });

  test('costs no more than the existing blocks in a huge IPv6 pool', () => {
    const p = pool('fd00::/48', 122);
    expect(free(p, ['fd00::/122', 'fd00::40/122'])).toBe('fd00::80/122');
  });
});
