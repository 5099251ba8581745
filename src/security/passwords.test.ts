import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createGate, hashPassword, PasswordHashingBusy, verifyPassword } from './passwords.ts';

test('hashes verify; a wrong password or no account does not', async () => {
  const stored = await hashPassword('correct horse battery');
  assert.match(stored, /^scrypt\$16384\$8\$5\$/);
  assert.equal(await verifyPassword('correct horse battery', stored), true);
  assert.equal(await verifyPassword('wrong horse battery', stored), false);
  assert.equal(await verifyPassword('correct horse battery', undefined), false);
});

test('the gate runs at most two at once, queues the next in order, and refuses beyond the queue', async () => {
  const gate = createGate(2, 3);
  let running = 0;
  let most = 0;
  const order: number[] = [];
  const finish: (() => void)[] = [];
  const task = (i: number) => () => {
    running++;
    most = Math.max(most, running);
    order.push(i);
    return new Promise<number>((resolve) => finish.push(() => {
      running--;
      resolve(i);
    }));
  };
  const accepted = [0, 1, 2, 3, 4].map((i) => gate(task(i)));
  await assert.rejects(gate(task(5)), PasswordHashingBusy, 'two running and three waiting: the sixth is refused at once');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [0, 1]);
  while (finish.length) {
    finish.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await Promise.all(accepted), [0, 1, 2, 3, 4]);
  assert.deepEqual(order, [0, 1, 2, 3, 4], 'in the order they came');
  assert.equal(most, 2);
  assert.equal(await gate(async () => 'free again'), 'free again');
});

test('a failing task gives its place to the next', async () => {
  const gate = createGate(1, 1);
  const first = gate(async () => { throw new Error('scrypt failed'); });
  const second = gate(async () => 'ran');
  await assert.rejects(first, /scrypt failed/);
  assert.equal(await second, 'ran');
});
