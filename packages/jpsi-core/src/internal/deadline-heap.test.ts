import { describe, expect, it } from 'vitest';
import { DeadlineHeap, type HeapItem } from './deadline-heap.js';

interface Item extends HeapItem {
  name: string;
}
const item = (name: string): Item => ({ name, deadline: 0, heapIndex: -1 });

describe('DeadlineHeap', () => {
  it('fires items in deadline order with one timer, and never fires removed ones', async () => {
    const fired: string[] = [];
    const heap = new DeadlineHeap<Item>((i) => fired.push(i.name));
    const now = Date.now();
    const items = Array.from({ length: 200 }, (_, k) => item(`i${k}`));
    // Shuffled deadlines 5..205 ms ahead.
    const order = items.map((_, k) => k).sort((a, b) => ((a * 7919) % 200) - ((b * 7919) % 200));
    for (const [pos, k] of order.entries()) heap.schedule(items[k]!, now + 5 + pos);
    for (let k = 0; k < 200; k += 3) heap.remove(items[k]!);
    heap.schedule(items[1]!, now + 1000); // moved later
    expect(heap.size).toBe(133);
    await new Promise((r) => setTimeout(r, 260));
    const expected = order.filter((k) => k % 3 !== 0 && k !== 1).map((k) => `i${k}`);
    expect(fired).toEqual(expected);
    expect(heap.size).toBe(1);
    heap.stop();
  });
});
