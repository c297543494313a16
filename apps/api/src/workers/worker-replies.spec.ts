import { EventEmitter } from 'node:events';
import Redis from 'ioredis';
import { WorkerReplies } from './worker-replies';

/** A subscriber double: psubscribe resolves, messages are emitted by the test. */
function fakeSubscriber(): Redis & EventEmitter {
  const emitter = new EventEmitter() as Redis & EventEmitter;
  (emitter as unknown as { psubscribe: () => Promise<void> }).psubscribe = async () => undefined;
  return emitter;
}

const reply = (subscriber: EventEmitter, requestId: string, body: object | string) =>
  subscriber.emit('pmessage', 'tx:0:r:*', `tx:0:r:${requestId}`, typeof body === 'string' ? body : JSON.stringify(body));

describe('WorkerReplies', () => {
  it('resolves as soon as every expected worker replied, ignoring unknown workers, other requests and malformed replies', async () => {
    const subscriber = fakeSubscriber();
    const replies = new WorkerReplies<{ worker_id: string; n: number }>(subscriber, 'tx:0:r:');
    replies.listen();
    const started = Date.now();
    const outcome = await replies.collect('req-1', [{ worker_id: 'a' }, { worker_id: 'b' }], 10_000, async () => {
      reply(subscriber, 'req-1', { worker_id: 'a', n: 1 });
      reply(subscriber, 'req-2', { worker_id: 'b', n: 9 });
      reply(subscriber, 'req-1', 'not json');
      reply(subscriber, 'req-1', { worker_id: 'stranger', n: 3 });
      reply(subscriber, 'req-1', { worker_id: 'b', n: 2 });
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(outcome).toEqual({ replies: [{ worker_id: 'a', n: 1 }, { worker_id: 'b', n: 2 }], missing: [] });
  });

  it('lists the workers that did not reply in time', async () => {
    const subscriber = fakeSubscriber();
    const replies = new WorkerReplies<{ worker_id: string }>(subscriber, 'tx:0:r:');
    replies.listen();
    const outcome = await replies.collect('req-3', [{ worker_id: 'a' }, { worker_id: 'b' }], 50, async () => reply(subscriber, 'req-3', { worker_id: 'b' }));
    expect(outcome).toEqual({ replies: [{ worker_id: 'b' }], missing: ['a'] });
  });

  it('with no worker expected, publishes and returns at once', async () => {
    const subscriber = fakeSubscriber();
    const replies = new WorkerReplies<{ worker_id: string }>(subscriber, 'tx:0:r:');
    const publish = jest.fn(async () => 1);
    await expect(replies.collect('req-4', [], 60_000, publish)).resolves.toEqual({ replies: [], missing: [] });
    expect(publish).toHaveBeenCalledTimes(1);
  });
});
