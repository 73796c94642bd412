import { describe, expect, it } from 'vitest';
import { DirectionReassembler, seenBefore, type StreamSink } from '../../bench/pcap/reassembly.ts';

/** Records what the reassembler delivers: the stream text with `?` for skipped bytes and `|` for gaps. */
function recorder(): StreamSink & { text: () => string } {
  let text = '';
  return {
    data: (_dir, bytes, start, end) => (text += bytes.toString('latin1', start, end)),
    skip: (_dir, n) => (text += '?'.repeat(n)),
    gap: () => (text += '|'),
    midstream: () => (text += '~'),
    text: () => text,
  };
}

/** Feeds a segment whose payload sits inside a larger frame, as the analyzer passes it (by its bounds). */
function feed(r: DirectionReassembler, seq: number, payload: string, payloadLength = payload.length): number {
  const frame = Buffer.from(`<hdr>${payload}<pad>`, 'latin1');
  return r.segment(seq >>> 0, payloadLength, frame, 5, 5 + payload.length);
}

describe('DirectionReassembler', () => {
  it('delivers in-order segments once and counts nothing as retransmitted', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(999);
    expect(feed(r, 1000, 'hello ')).toBe(0);
    expect(feed(r, 1006, 'world')).toBe(0);
    r.finish();
    expect(sink.text()).toBe('hello world');
    expect(r.retransmittedBytes).toBe(0);
  });

  it('counts a full retransmission and delivers it once', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(0);
    feed(r, 1, 'abcd');
    expect(feed(r, 1, 'abcd')).toBe(4);
    feed(r, 5, 'ef');
    r.finish();
    expect(sink.text()).toBe('abcdef');
    expect(r.retransmittedBytes).toBe(4);
  });

  it('counts only the overlapping bytes of a partial overlap', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(0);
    feed(r, 1, 'abcd');
    expect(feed(r, 3, 'cdEF')).toBe(2);
    r.finish();
    expect(sink.text()).toBe('abcdEF');
  });

  it('reorders out-of-order segments and counts overlaps between held segments', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(0);
    feed(r, 1, 'ab');
    expect(feed(r, 7, 'gh')).toBe(0);
    expect(feed(r, 5, 'efg')).toBe(1);
    expect(feed(r, 3, 'cd')).toBe(0);
    r.finish();
    expect(sink.text()).toBe('abcdefgh');
    expect(r.retransmittedBytes).toBe(1);
  });

  it('unwraps sequence numbers across 2^32', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(2 ** 32 - 4);
    feed(r, 2 ** 32 - 3, 'abc');
    feed(r, 0, 'def');
    expect(feed(r, 2 ** 32 - 1, 'cd')).toBe(2);
    r.finish();
    expect(sink.text()).toBe('abcdef');
  });

  it('reports a gap when a segment never arrives, then delivers what followed', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(0);
    feed(r, 1, 'ab');
    feed(r, 5, 'ef');
    r.finish();
    expect(sink.text()).toBe('ab|ef');
    expect(r.gaps).toBe(1);
  });

  it('skips the uncaptured tail of a packet cut by the snap length', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(0);
    feed(r, 1, 'ab', 5);
    feed(r, 6, 'fg');
    r.finish();
    expect(sink.text()).toBe('ab???fg');
  });

  it('holds a cut out-of-order packet and skips its missing tail when reached', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    r.syn(0);
    feed(r, 4, 'd', 3);
    feed(r, 1, 'abc');
    r.finish();
    expect(sink.text()).toBe('abcd??');
  });

  it('starts at the first data segment when the SYN was not captured', () => {
    const sink = recorder();
    const r = new DirectionReassembler(sink, 'up');
    feed(r, 5000, 'xy');
    feed(r, 5002, 'z');
    r.finish();
    expect(sink.text()).toBe('~xyz');
    expect(r.startedMidstream).toBe(true);
    expect(r.gaps).toBe(0);
  });
});

describe('seenBefore', () => {
  /** The definition: [seq, seq + length) lies before `next`, seq taken as the 32-bit value nearest `next`. */
  function expected(seq: number, length: number, next: number): boolean {
    const offset = ((((seq - next) % 2 ** 32) + 2 ** 32 + 2 ** 31) % 2 ** 32) - 2 ** 31;
    return next + offset + length <= next;
  }

  it('agrees with modular arithmetic across wrap-around, for streams past 2^32 bytes too', () => {
    let state = 12345;
    const random = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state;
    };
    const nexts = [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 7, 3 * 2 ** 32 + 2 ** 31 + 5];
    for (const next of nexts) {
      for (let i = 0; i < 2000; i++) {
        const near = i % 2 === 0;
        const seq = near ? ((next >>> 0) + (random() % 4096) - 2048) >>> 0 : random();
        const length = random() % 3000;
        expect(seenBefore(seq, length, next), `seq ${seq} length ${length} next ${next}`).toBe(expected(seq, length, next));
      }
    }
    expect(seenBefore(5, 1, Number.NaN)).toBe(false);
  });
});
