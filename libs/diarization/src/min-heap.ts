/**
 * Binary min-heap of node ids keyed by an external Float64Array, with update and removal by id.
 * Ties break on the smaller id so results do not depend on insertion history.
 */
export class IndexedMinHeap {
  private readonly heap: Int32Array;
  /** position of each id in the heap, -1 when absent */
  private readonly pos: Int32Array;
  private count = 0;

  constructor(
    capacity: number,
    private readonly keys: Float64Array,
  ) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.count;
  }

  has(id: number): boolean {
    return this.pos[id] >= 0;
  }

  /** smallest key's id; -1 when empty */
  top(): number {
    return this.count > 0 ? this.heap[0] : -1;
  }

  push(id: number): void {
    if (this.pos[id] >= 0) {
      this.update(id);
      return;
    }
    this.heap[this.count] = id;
    this.pos[id] = this.count;
    this.count++;
    this.up(this.count - 1);
  }

  remove(id: number): void {
    const p = this.pos[id];
    if (p < 0) return;
    this.count--;
    this.pos[id] = -1;
    if (p === this.count) return;
    const last = this.heap[this.count];
    this.heap[p] = last;
    this.pos[last] = p;
    this.up(p);
    this.down(this.pos[last]);
  }

  /** restores order after keys[id] changed either way */
  update(id: number): void {
    const p = this.pos[id];
    if (p < 0) return;
    this.up(p);
    this.down(this.pos[id]);
  }

  private less(a: number, b: number): boolean {
    const ka = this.keys[a];
    const kb = this.keys[b];
    return ka < kb || (ka === kb && a < b);
  }

  private up(p: number): void {
    const { heap, pos } = this;
    const id = heap[p];
    while (p > 0) {
      const parent = (p - 1) >> 1;
      if (!this.less(id, heap[parent])) break;
      heap[p] = heap[parent];
      pos[heap[p]] = p;
      p = parent;
    }
    heap[p] = id;
    pos[id] = p;
  }

  private down(p: number): void {
    const { heap, pos } = this;
    const id = heap[p];
    for (;;) {
      let child = 2 * p + 1;
      if (child >= this.count) break;
      if (child + 1 < this.count && this.less(heap[child + 1], heap[child])) child++;
      if (!this.less(heap[child], id)) break;
      heap[p] = heap[child];
      pos[heap[p]] = p;
      p = child;
    }
    heap[p] = id;
    pos[id] = p;
  }
}
