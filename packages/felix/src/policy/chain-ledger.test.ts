import { ChainLedger } from './chain-ledger';
import { FakeTable } from './testing';

const chain = (name: string, action = '-j ACCEPT') => ({ name, rules: [{ match: '', action }] });

describe('ChainLedger', () => {
  test('hands over only chains whose rules changed, and removes only what no producer makes', async () => {
    const ledger = new ChainLedger();
    const table = new FakeTable('filter');
    ledger.set('policy:a', [chain('mg-pi-a'), chain('mg-po-a')]);
    expect(ledger.flushInto(table)).toEqual({ updated: 2, removed: 0 });

    ledger.set('policy:a', [chain('mg-pi-a'), chain('mg-po-a', '-j DROP')]);
    ledger.set('policy:b', []);
    expect(ledger.flushInto(table)).toEqual({ updated: 1, removed: 0 });
    expect(table.updated[0]).toEqual(['mg-pi-a', 'mg-po-a', 'mg-po-a']);

    ledger.set('policy:a', [chain('mg-pi-a')]);
    expect(ledger.flushInto(table)).toEqual({ updated: 0, removed: 1 });
    expect(table.removed[0]).toEqual(['mg-po-a']);
    expect(ledger.chainNames()).toEqual(['mg-pi-a']);
  });

  test('a chain taken over by another producer survives its old producer dropping it', () => {
    const ledger = new ChainLedger();
    const table = new FakeTable('filter');
    ledger.set('endpoint:old', [chain('mg-tw-mgweb')]);
    ledger.flushInto(table);
    // The interface moves to another endpoint key; the new one is processed first.
    ledger.set('endpoint:new', [chain('mg-tw-mgweb', '-j DROP')]);
    ledger.set('endpoint:old', []);
    expect(ledger.flushInto(table)).toEqual({ updated: 1, removed: 0 });
    expect(ledger.chainNames()).toEqual(['mg-tw-mgweb']);
  });
});
