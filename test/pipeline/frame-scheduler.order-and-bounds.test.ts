import { describe, expect, it } from 'vitest';
import { FrameScheduler, type ScheduledJob, type SchedulerLimits } from '../../src/pipeline/frame-scheduler.js';

/**
 * The frame scheduler with in-memory ports: each stage of each job waits until the test lets it go, so
 * what runs at the same time, what waits, and in what order results come out is seen step by step.
 */

interface TestJob extends ScheduledJob<string> {
  readonly id: string;
  readonly bytes: number;
  result?: string;
  error?: unknown;
  settled: boolean;
}

/** A promise the test resolves by hand. */
function gate<T = void>(): { promise: Promise<T>; open(value: T): void; fail(err: unknown): void } {
  let open!: (value: T) => void;
  let fail!: (err: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

/** Lets pending promise callbacks run (no timers: the ports are in memory). */
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function harness(limits: Partial<SchedulerLimits> = {}) {
  const preparing = new Map<string, ReturnType<typeof gate<string>>>();
  const inspecting = new Map<string, ReturnType<typeof gate<string>>>();
  const delivering = new Map<string, ReturnType<typeof gate<string>>>();
  const events: string[] = [];
  /** Jobs signalled (a fast sink's view), in call order. */
  const signals: string[] = [];
  const stage = (map: Map<string, ReturnType<typeof gate<string>>>, name: string, id: string) => {
    events.push(`${name} ${id}`);
    const g = gate<string>();
    map.set(id, g);
    return g.promise;
  };
  const scheduler = new FrameScheduler<TestJob, string, string, string>(
    {
      bytesOf: (job) => job.bytes,
      prepare: (job) => stage(preparing, 'prepare', job.id),
      inspect: (id) => stage(inspecting, 'inspect', id),
      signal: (id) => void signals.push(id),
      // a batch: every job's own gate, opened (or failed) by the test one by one
      deliver: async (ids) => {
        const outcomes = await Promise.allSettled(ids.map((id) => stage(delivering, 'deliver', id)));
        return outcomes.map((o) => (o.status === 'fulfilled' ? { ok: true as const, value: o.value } : { ok: false as const, error: o.reason }));
      },
    },
    { queueSize: 8, alarmAt: 0.5, prefetchBytes: 300, maxPreparing: 2, ...limits },
  );
  const job = (id: string, bytes = 100): TestJob => {
    const j: TestJob = {
      id,
      bytes,
      settled: false,
      settle(result, error) {
        j.settled = true;
        if (result !== undefined) j.result = result;
        if (error !== undefined) j.error = error;
        events.push(`settled ${id}${result !== undefined ? ` ${result}` : ''}${error !== undefined ? ' error' : ''}`);
      },
    };
    return j;
  };
  /** Lets job `id` through prepare (with the id as its output), inspect and deliver. */
  const through = async (id: string) => {
    preparing.get(id)?.open(id);
    await settle();
    inspecting.get(id)?.open(id);
    await settle();
    delivering.get(id)?.open(`verdict ${id}`);
    await settle();
  };
  return { scheduler, job, events, signals, preparing, inspecting, delivering, through };
}

describe('frame scheduler', () => {
  it('prepares the next frames while one is at the model, up to maxPreparing at once', async () => {
    const h = harness({ prefetchBytes: 10_000 });
    h.scheduler.start();
    for (const id of ['a', 'b', 'c', 'd']) h.scheduler.enqueue(h.job(id));
    await settle();
    expect(h.events).toEqual(['prepare a', 'prepare b']); // two at once, the rest wait in the queue
    h.preparing.get('a')?.open('a');
    await settle();
    expect(h.events).toEqual(['prepare a', 'prepare b', 'prepare c', 'inspect a']); // a at the model, c starts
    expect(h.scheduler.queueDepth).toBe(1);
    for (const id of ['a', 'b', 'c', 'd']) await h.through(id);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('finishes in arrival order whatever order preparation ends in, and delivers one at a time while the next is inspected', async () => {
    const h = harness({ prefetchBytes: 10_000, maxPreparing: 3 });
    h.scheduler.start();
    const jobs = ['a', 'b', 'c'].map((id) => h.job(id));
    for (const j of jobs) h.scheduler.enqueue(j);
    await settle();
    h.preparing.get('c')?.open('c');
    h.preparing.get('b')?.open('b');
    await settle();
    expect(h.events.filter((e) => e.startsWith('inspect'))).toEqual([]); // a is not ready: nobody passes it
    h.preparing.get('a')?.open('a');
    await settle();
    h.inspecting.get('a')?.open('a');
    await settle();
    // a is delivered while b is at the model
    expect(h.events.slice(-2)).toEqual(['deliver a', 'inspect b']);
    h.inspecting.get('b')?.open('b');
    await settle();
    expect(h.events.at(-1)).toBe('inspect c'); // the model goes on to c...
    expect(h.events).not.toContain('deliver b'); // ...but b waits for a's delivery: deliveries keep the order
    h.delivering.get('a')?.open('verdict a');
    await settle();
    expect(h.events.slice(-2)).toEqual(['settled a verdict a', 'deliver b']);
    h.delivering.get('b')?.open('verdict b');
    await settle();
    h.inspecting.get('c')?.open('c');
    await settle();
    h.delivering.get('c')?.open('verdict c');
    await settle();
    expect(h.events.filter((e) => e.startsWith('settled'))).toEqual(['settled a verdict a', 'settled b verdict b', 'settled c verdict c']);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('signals each result the moment it is inspected, in order, without waiting for the previous delivery', async () => {
    const h = harness({ prefetchBytes: 10_000, maxPreparing: 2 });
    h.scheduler.start();
    for (const id of ['a', 'b', 'c']) h.scheduler.enqueue(h.job(id));
    await settle();
    for (const id of ['a', 'b']) h.preparing.get(id)?.open(id);
    await settle();
    h.inspecting.get('a')?.open('a');
    await settle();
    expect(h.signals).toEqual(['a']);
    expect(h.events.slice(-2)).toEqual(['deliver a', 'inspect b']);
    h.inspecting.get('b')?.open('b'); // a's delivery (the outbox's fsync) is still pending
    await settle();
    expect(h.signals).toEqual(['a', 'b']);
    expect(h.events).not.toContain('deliver b');
    expect(h.events).not.toContain('settled a verdict a');
    h.preparing.get('c')?.open('c');
    await settle();
    h.inspecting.get('c')?.fail(new Error('model gone')); // a failed inspection has nothing to signal
    await settle();
    expect(h.signals).toEqual(['a', 'b']);
    h.delivering.get('a')?.open('verdict a');
    await settle();
    h.delivering.get('b')?.open('verdict b');
    await settle();
    expect(h.events.filter((e) => e.startsWith('settled'))).toEqual(['settled a verdict a', 'settled b verdict b', 'settled c error']);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('delivers together the jobs inspected while a delivery ran (group commit), and settles each in order', async () => {
    const h = harness({ prefetchBytes: 10_000, maxPreparing: 3 });
    h.scheduler.start();
    const [a, b, c] = ['a', 'b', 'c'].map((id) => h.job(id)) as [TestJob, TestJob, TestJob];
    for (const j of [a, b, c]) h.scheduler.enqueue(j);
    await settle();
    for (const id of ['a', 'b', 'c']) h.preparing.get(id)?.open(id);
    await settle();
    h.inspecting.get('a')?.open('a');
    await settle();
    h.inspecting.get('b')?.open('b'); // a's commit is still running: b and c wait for it
    await settle();
    h.inspecting.get('c')?.open('c');
    await settle();
    expect(h.events.filter((e) => e.startsWith('deliver'))).toEqual(['deliver a']);
    expect(h.signals).toEqual(['a', 'b', 'c']); // the line heard of all three meanwhile
    h.delivering.get('a')?.open('verdict a');
    await settle();
    // one batch: c's delivery starts before b's ends
    expect(h.events.filter((e) => e.startsWith('deliver'))).toEqual(['deliver a', 'deliver b', 'deliver c']);
    h.delivering.get('c')?.fail(new Error('outbox full'));
    await settle();
    expect(c.settled).toBe(false); // not before b
    h.delivering.get('b')?.open('verdict b');
    await settle();
    expect(h.events.filter((e) => e.startsWith('settled'))).toEqual(['settled a verdict a', 'settled b verdict b', 'settled c error']);
    expect(h.scheduler.bytesInFlight).toBe(0);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('holds no more than prefetchBytes in started jobs, but always lets one job through however large', async () => {
    const h = harness({ prefetchBytes: 250, maxPreparing: 4 });
    h.scheduler.start();
    const big = h.job('big', 1_000);
    h.scheduler.enqueue(big);
    h.scheduler.enqueue(h.job('a'));
    h.scheduler.enqueue(h.job('b'));
    h.scheduler.enqueue(h.job('c'));
    await settle();
    expect(h.events).toEqual(['prepare big']); // alone: over the budget by itself
    expect(h.scheduler.bytesInFlight).toBe(1_000);
    await h.through('big');
    expect(h.events.slice(-2)).toEqual(['prepare a', 'prepare b']); // 200 of 250: c would pass the budget
    expect(h.scheduler.bytesInFlight).toBe(200);
    await h.through('a');
    expect(h.events.at(-1)).toBe('prepare c'); // a's bytes are free once it is delivered
    await h.through('b');
    await h.through('c');
    expect(h.scheduler.bytesInFlight).toBe(0);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('keeps only the newest frame of a free-running camera while the preparers are busy, and counts the skipped ones', async () => {
    const h = harness({ prefetchBytes: 10_000, maxPreparing: 1 });
    h.scheduler.start();
    const jobs = ['f1', 'f2', 'f3', 'f4'].map((id) => h.job(id));
    for (const j of jobs) h.scheduler.offer(j);
    await settle();
    expect(h.events.filter((e) => e.startsWith('prepare'))).toEqual(['prepare f1']);
    expect(jobs[1]?.settled && jobs[1]?.result === undefined && jobs[1]?.error === undefined).toBe(true); // replaced, no error
    expect(jobs[2]?.settled).toBe(true);
    expect(h.scheduler.skipped).toBe(2);
    await h.through('f1');
    await h.through('f4');
    expect(jobs[3]?.result).toBe('verdict f4');
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('prepares a free-running camera\'s frames on every preparer while none waits for the model, and one at a time once one does', async () => {
    const h = harness({ prefetchBytes: 10_000, maxPreparing: 2 });
    h.scheduler.start();
    const [f1, f2, f3, f4, f5] = ['f1', 'f2', 'f3', 'f4', 'f5'].map((id) => h.job(id)) as [TestJob, TestJob, TestJob, TestJob, TestJob];
    h.scheduler.offer(f1);
    h.scheduler.offer(f2);
    await settle();
    expect(h.events).toEqual(['prepare f1', 'prepare f2']); // preparation is the bottleneck: both preparers work for one camera
    h.scheduler.offer(f3); // both busy: f3 waits as the newest
    await settle();
    h.preparing.get('f1')?.open('f1');
    await settle();
    expect(h.events.slice(2).sort()).toEqual(['inspect f1', 'prepare f3']); // f1 at the model frees a preparer for f3
    h.preparing.get('f2')?.open('f2'); // f2 is ready and waits: now the model is the bottleneck
    await settle();
    h.scheduler.offer(f4);
    await settle();
    expect(h.events.filter((e) => e.startsWith('prepare'))).toEqual(['prepare f1', 'prepare f2', 'prepare f3']); // f4 waits: f3 will replace f2
    h.preparing.get('f3')?.open('f3');
    await settle();
    expect(f2.settled && f2.result === undefined && f2.error === undefined).toBe(true); // f3 replaced f2
    expect(h.events.at(-1)).toBe('prepare f4'); // the one to replace f3, alone
    h.scheduler.offer(f5);
    await settle();
    expect(h.events.at(-1)).toBe('prepare f4'); // still one at a time while f3 waits
    h.inspecting.get('f1')?.open('f1');
    await settle();
    expect(h.events.slice(-3).sort()).toEqual(['deliver f1', 'inspect f3', 'prepare f5']); // f3 at the model: nothing waits, so f5 starts beside f4
    h.delivering.get('f1')?.open('verdict f1');
    await settle();
    for (const id of ['f3', 'f4', 'f5']) await h.through(id);
    expect([f1.result, f3.result, f4.result, f5.result]).toEqual(['verdict f1', 'verdict f3', 'verdict f4', 'verdict f5']);
    expect(h.scheduler.skipped).toBe(1);
    expect(h.scheduler.bytesInFlight).toBe(0);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('drops a prepared frame still waiting for the model once a newer one is prepared: a stale frame never delays a fresh one', async () => {
    const h = harness({ prefetchBytes: 10_000, maxPreparing: 2 });
    h.scheduler.start();
    const [f1, f2, f3] = [h.job('f1'), h.job('f2'), h.job('f3')];
    h.scheduler.offer(f1);
    await settle();
    h.preparing.get('f1')?.open('f1');
    await settle();
    expect(h.events.at(-1)).toBe('inspect f1'); // the model is busy with f1
    h.scheduler.offer(f2);
    await settle();
    h.preparing.get('f2')?.open('f2'); // f2 is ready and waits for the model
    await settle();
    h.scheduler.offer(f3);
    await settle();
    expect(h.events.at(-1)).toBe('prepare f3'); // one ahead of the model is being prepared
    h.preparing.get('f3')?.open('f3');
    await settle();
    expect(f2.settled && f2.result === undefined && f2.error === undefined).toBe(true); // replaced, no error
    expect(h.scheduler.skipped).toBe(1);
    expect(h.scheduler.bytesInFlight).toBe(200); // f1 and f3; f2's bytes are free
    h.inspecting.get('f1')?.open('f1');
    await settle();
    expect(h.events.filter((e) => e.startsWith('inspect'))).toEqual(['inspect f1', 'inspect f3']); // f3 goes next, f2 never
    h.delivering.get('f1')?.open('verdict f1');
    await settle();
    h.inspecting.get('f3')?.open('f3');
    await settle();
    h.delivering.get('f3')?.open('verdict f3');
    await settle();
    expect([f1.result, f3.result]).toEqual(['verdict f1', 'verdict f3']);
    expect(h.scheduler.bytesInFlight).toBe(0);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('never drops a lossless job for a newer frame, and a stream frame started before it keeps its place', async () => {
    const h = harness({ prefetchBytes: 10_000, maxPreparing: 2 });
    h.scheduler.start();
    const [f1, s1, f2] = [h.job('f1'), h.job('s1'), h.job('f2')];
    h.scheduler.offer(f1);
    h.scheduler.enqueue(s1); // a snapshot command on a free-running camera
    await settle();
    expect(h.events).toEqual(['prepare f1', 'prepare s1']);
    h.scheduler.offer(f2);
    await settle();
    expect(h.events.at(-1)).toBe('prepare s1'); // f1 is still being prepared: f2 waits
    h.preparing.get('s1')?.open('s1');
    h.preparing.get('f1')?.open('f1');
    await settle();
    h.preparing.get('f2')?.open('f2');
    await settle();
    for (const id of ['f1', 's1', 'f2']) {
      h.inspecting.get(id)?.open(id);
      await settle();
      h.delivering.get(id)?.open(`verdict ${id}`);
      await settle();
    }
    expect(h.events.filter((e) => e.startsWith('inspect'))).toEqual(['inspect f1', 'inspect s1', 'inspect f2']);
    expect([f1.result, s1.result, f2.result]).toEqual(['verdict f1', 'verdict s1', 'verdict f2']);
    expect(h.scheduler.skipped).toBe(0);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('refuses a lossless job with QUEUE_FULL when the queue is full, and raises the alarm before that', async () => {
    const h = harness({ queueSize: 2, alarmAt: 0.5, maxPreparing: 1 });
    h.scheduler.start();
    h.scheduler.enqueue(h.job('a')); // started at once
    h.scheduler.enqueue(h.job('b'));
    expect(h.scheduler.alarm).toBe(true);
    h.scheduler.enqueue(h.job('c'));
    const refused = h.job('d');
    h.scheduler.enqueue(refused);
    expect(refused.error).toMatchObject({ code: 'QUEUE_FULL' });
    expect(h.scheduler.queueDepth).toBe(2);
    await h.through('a');
    await h.through('b');
    await h.through('c');
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('a failed delivery settles that job with the error and the next ones go on', async () => {
    const h = harness({ prefetchBytes: 10_000 });
    h.scheduler.start();
    const [a, b] = [h.job('a'), h.job('b')];
    h.scheduler.enqueue(a);
    h.scheduler.enqueue(b);
    await settle();
    h.preparing.get('a')?.open('a');
    h.preparing.get('b')?.open('b');
    await settle();
    h.inspecting.get('a')?.open('a');
    await settle();
    h.delivering.get('a')?.fail(new Error('outbox not writable'));
    await settle();
    expect(a.error).toBeInstanceOf(Error);
    h.inspecting.get('b')?.open('b');
    await settle();
    h.delivering.get('b')?.open('verdict b');
    await settle();
    expect(b.result).toBe('verdict b');
    expect(h.scheduler.bytesInFlight).toBe(0);
    await h.scheduler.stop(new Error('stopped'));
  }, 10_000);

  it('on stop, jobs that had not started are settled with the error and started ones are finished', async () => {
    const h = harness({ maxPreparing: 1 });
    h.scheduler.start();
    const [a, b] = [h.job('a'), h.job('b')];
    h.scheduler.enqueue(a);
    h.scheduler.enqueue(b);
    await settle();
    const stopped = h.scheduler.stop(new Error('camera stopped'));
    expect(b.error).toMatchObject({ message: 'camera stopped' });
    expect(a.settled).toBe(false);
    await h.through('a');
    await stopped;
    expect(a.result).toBe('verdict a');
    const late = h.job('late');
    h.scheduler.enqueue(late);
    expect(late.error).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
  }, 10_000);
});
