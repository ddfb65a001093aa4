import { describe, expect, it } from 'vitest';
import { createInspector } from '../../src/inspect/index.js';
import { runScenario } from './scenario.js';

describe('inspection changes nothing on the wire', () => {
  it('[R11, R12] the same frames, in the same order, with and without the inspector (page served, hook installed, sessions attached)', async () => {
    const plain = await runScenario();

    const inspector = await createInspector({
      // A hook that rewrites its copy heavily: the engine's own messages must not notice.
      sanitize: (m) => {
        for (const key of Object.keys(m)) if (key !== 'message_type') delete (m as unknown as Record<string, unknown>)[key];
        return m;
      },
    });
    // A page is watching while it runs.
    const events = await fetch(new URL('events', inspector.url));
    const reader = events.body!.getReader();
    let streamed = '';
    const reading = (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        streamed += new TextDecoder().decode(value);
      }
    })();
    const watched = await runScenario({ inspect: inspector.inspect, attach: (s) => inspector.attach(s) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    await reader.cancel();
    await reading.catch(() => undefined);
    await inspector.close();

    expect(plain.final).toBe('SUCCEEDED');
    expect(watched.final).toBe('SUCCEEDED');
    expect(watched.cemFrames).toEqual(plain.cemFrames);
    expect(watched.rmFrames).toEqual(plain.rmFrames);
    expect(watched.cemFrames.length).toBeGreaterThan(10);
    // …while the page did get the sessions.
    expect(streamed).toContain('event: ops');
    expect(streamed).toContain('"role":"RM"');
  });
});
