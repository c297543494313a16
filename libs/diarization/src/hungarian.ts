/**
 * Maximum-weight assignment (Hungarian / Kuhn–Munkres with potentials, O(n²·m)) on a rows × cols
 * matrix. Returns the column of each row, -1 for rows left over when rows > cols.
 */
export function maxWeightAssignment(weights: Float64Array, rows: number, cols: number): Int32Array {
  const result = new Int32Array(rows).fill(-1);
  if (rows === 0 || cols === 0) return result;
  // the algorithm needs n ≤ m: solve the transpose when there are more rows
  const transposed = rows > cols;
  const n = transposed ? cols : rows;
  const m = transposed ? rows : cols;
  // minimise the negated weights; 1-based with a virtual column 0
  const cost = (i: number, j: number): number => -(transposed ? weights[(j - 1) * cols + (i - 1)] : weights[(i - 1) * cols + (j - 1)]);
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const owner = new Int32Array(m + 1); // row matched to each column, 0 = none
  const way = new Int32Array(m + 1);
  const minv = new Float64Array(m + 1);
  const used = new Uint8Array(m + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    minv.fill(Infinity);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = owner[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = cost(i0, j) - u[i0] - v[j];
        if (cur < minv[j]) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else {
          minv[j] -= delta;
        }
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    // augment along the alternating path
    do {
      const j1 = way[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  for (let j = 1; j <= m; j++) {
    if (owner[j] === 0) continue;
    if (transposed) result[j - 1] = owner[j] - 1;
    else result[owner[j] - 1] = j - 1;
  }
  return result;
}
