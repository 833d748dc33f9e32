// Input checks shared by both implementations, so bad input fails the same way everywhere and
// before anything is written.
import type { TxnCondition, TxnOp } from './types';

export function checkKey(key: unknown, where: string): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new Error(`${where}: the key must be a non-empty string, got ${JSON.stringify(key)}`);
  }
}

export function checkPrefix(prefix: unknown, where: string): void {
  if (typeof prefix !== 'string')
    throw new Error(`${where}: the prefix must be a string, got ${typeof prefix}`);
}

export function checkValue(value: unknown, where: string): void {
  if (typeof value !== 'string') {
    throw new Error(`${where}: the value must be a string, got ${typeof value}`);
  }
}

export function checkRevision(revision: unknown, where: string): void {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new Error(`${where}: a revision must be a non-negative integer, got ${String(revision)}`);
  }
}

export function checkTtl(ttlSeconds: unknown): void {
  if (typeof ttlSeconds !== 'number' || !Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new Error(`grantLease: the TTL must be a whole number of seconds >= 1, got ${String(ttlSeconds)}`);
  }
}

export function checkTxn(conditions: TxnCondition[], ops: TxnOp[]): void {
  conditions.forEach((condition, i) => {
    checkKey(condition.key, `txn condition ${i}`);
    checkRevision(condition.modRevision, `txn condition ${i} (${condition.key})`);
  });
  // etcd refuses a transaction that writes one key twice; refuse it here for both stores.
  const written = new Set<string>();
  ops.forEach((op, i) => {
    const where = `txn op ${i}`;
    if (op.op !== 'put' && op.op !== 'delete') {
      throw new Error(
        `${where}: op must be 'put' or 'delete', got ${JSON.stringify((op as { op: unknown }).op)}`,
      );
    }
    checkKey(op.key, where);
    if (op.op === 'put') checkValue(op.value, `${where} (${op.key})`);
    if (written.has(op.key))
      throw new Error(`${where}: the key ${op.key} is written twice in one transaction`);
    written.add(op.key);
  });
}
