import { CONFIRMED_AFFINITY, isConfirmedAffinity } from './records';

describe('isConfirmedAffinity', () => {
  it.each([
    [CONFIRMED_AFFINITY, true],
    ['{"state":"confirmed"}', true],
    ['{"state":"pending","deleted":false}', false],
    ['{"state":"confirmed","deleted":true}', false],
    ['null', false],
    ['{broken', false],
  ])('%s → %s', (value, confirmed) => {
    expect(isConfirmedAffinity(value)).toBe(confirmed);
  });
});
