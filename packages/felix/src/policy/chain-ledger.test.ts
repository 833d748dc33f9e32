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

  test('a chain is handed over again when any rule field changes, the comment included', () => {
    const ledger = new ChainLedger();
    const table = new FakeTable('filter');
    const rules = [
      { match: '-p tcp', action: '-j ACCEPT', comment: 'web' },
      { match: '', action: '-j DROP' },
    ];
    ledger.set('policy:a', [{ name: 'mg-pi-a', rules }]);
    ledger.flushInto(table);
    // Equal rules in new objects: nothing to hand over.
    ledger.set('policy:a', [{ name: 'mg-pi-a', rules: rules.map((rule) => ({ ...rule })) }]);
    expect(ledger.flushInto(table)).toEqual({ updated: 0, removed: 0 });
    for (const changed of [
      [{ ...rules[0]!, comment: 'api' }, rules[1]!],
      [{ ...rules[0]!, comment: undefined }, rules[1]!],
      [rules[0]!, { ...rules[1]!, match: '-p udp' }],
      [rules[0]!, { ...rules[1]!, action: '-j RETURN' }],
      [rules[0]!],
      [...rules, rules[1]!],
    ]) {
      ledger.set('policy:a', [{ name: 'mg-pi-a', rules: changed }]);
      expect(ledger.flushInto(table)).toEqual({ updated: 1, removed: 0 });
      ledger.set('policy:a', [{ name: 'mg-pi-a', rules }]);
      expect(ledger.flushInto(table)).toEqual({ updated: 1, removed: 0 });
    }
  });
});
