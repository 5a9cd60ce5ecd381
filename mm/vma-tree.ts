/**
 * The ordered set behind VmaList: an AVL tree of VMAs keyed by start,
 * augmented with the largest free gap of each subtree, so that lookup,
 * insertion, removal and the top-down free-range search are all O(log n)
 * (cf. the augmented rbtree of mm/mmap.c before 6.1, vma_compute_subtree_gap,
 * and the gap-tracking maple tree after it).
 *
 *   node: vma [start, end), prevEnd = the end of the area below it (0 if none)
 *         gap    = start - guard - prevEnd   (guard: one page below a grows-down area)
 *         maxGap = max(gap, left.maxGap, right.maxGap)
 *
 * Invariants: areas are disjoint and in-order by start; every node's prevEnd
 * is its predecessor's end; heights differ by at most one between siblings.
 * Changing an area's start or end goes through the tree (setStart/setEnd) so
 * that gaps stay true.
 */
import { PAGE_SIZE } from "./layout.js";
import type { Vma } from "./vma.js";

/** One tree node. */
interface Node {
  /** The area. */
  readonly vma: Vma;
  left: Node | null;
  right: Node | null;
  /** Height of the subtree rooted here (a leaf is 1). */
  height: number;
  /** End of the area below this one, 0 for the lowest. */
  prevEnd: number;
  /** Largest free gap below an area of this subtree. */
  maxGap: number;
}

/** Result of a gap search that must go no lower (the floor was reached). */
const STOP = -2;

function height(n: Node | null): number {
  return n === null ? 0 : n.height;
}

/** The free gap right below `n`'s area, clamped at 0 (cf. vma_compute_gap). */
function ownGap(n: Node): number {
  const guard = n.vma.growsDown ? PAGE_SIZE : 0;
  return Math.max(0, n.vma.start - guard - n.prevEnd);
}

/** Recomputes height and maxGap of `n` from its children. */
function pull(n: Node): void {
  const l = n.left, r = n.right;
  n.height = 1 + Math.max(height(l), height(r));
  n.maxGap = Math.max(ownGap(n), l === null ? 0 : l.maxGap, r === null ? 0 : r.maxGap);
}

function rotateRight(n: Node): Node {
  const l = n.left!;
  n.left = l.right;
  l.right = n;
  pull(n);
  pull(l);
  return l;
}

function rotateLeft(n: Node): Node {
  const r = n.right!;
  n.right = r.left;
  r.left = n;
  pull(n);
  pull(r);
  return r;
}

/** Restores the AVL balance at `n` (children already balanced). */
function balance(n: Node): Node {
  pull(n);
  const bf = height(n.left) - height(n.right);
  if (bf > 1) {
    if (height(n.left!.left) < height(n.left!.right)) n.left = rotateLeft(n.left!);
    return rotateRight(n);
  }
  if (bf < -1) {
    if (height(n.right!.right) < height(n.right!.left)) n.right = rotateRight(n.right!);
    return rotateLeft(n);
  }
  return n;
}

function insertNode(root: Node | null, node: Node): Node {
  if (root === null) return node;
  if (node.vma.start < root.vma.start) root.left = insertNode(root.left, node);
  else root.right = insertNode(root.right, node);
  return balance(root);
}

/** Removes the lowest node of `root`'s subtree into `out[0]`; returns the new subtree. */
function removeMin(root: Node, out: Node[]): Node | null {
  if (root.left === null) {
    out[0] = root;
    return root.right;
  }
  root.left = removeMin(root.left, out);
  return balance(root);
}

function removeNode(root: Node | null, start: number): Node | null {
  if (root === null) return null;
  if (start < root.vma.start) root.left = removeNode(root.left, start);
  else if (start > root.vma.start) root.right = removeNode(root.right, start);
  else {
    if (root.left === null) return root.right;
    if (root.right === null) return root.left;
    const out: Node[] = [];
    const right = removeMin(root.right, out);
    const heir = out[0];
    heir.left = root.left;
    heir.right = right;
    return balance(heir);
  }
  return balance(root);
}

/** The VMAs of one address space as an augmented balanced tree. */
export class VmaTree {
  private root: Node | null = null;
  /** Number of areas. */
  size = 0;
  /** The node of each area in the tree. */
  private readonly nodes = new Map<Vma, Node>();

  /** The first area whose end is above `va` (cf. find_vma), or undefined. */
  lowerBound(va: number): Vma | undefined {
    let n = this.root, best: Node | null = null;
    while (n !== null) {
      if (n.vma.end > va) {
        best = n;
        n = n.left;
      } else n = n.right;
    }
    return best?.vma;
  }

  /** The last area starting below `va`, or undefined. */
  before(va: number): Vma | undefined {
    let n = this.root, best: Node | null = null;
    while (n !== null) {
      if (n.vma.start < va) {
        best = n;
        n = n.right;
      } else n = n.left;
    }
    return best?.vma;
  }

  /** The highest area, or undefined when empty. */
  last(): Vma | undefined {
    let n = this.root;
    while (n !== null && n.right !== null) n = n.right;
    return n?.vma;
  }

  /** Calls fn on every area in address order. */
  forEach(fn: (v: Vma) => void): void {
    const stack: Node[] = [];
    let n = this.root;
    while (n !== null || stack.length > 0) {
      while (n !== null) {
        stack.push(n);
        n = n.left;
      }
      n = stack.pop()!;
      fn(n.vma);
      n = n.right;
    }
  }

  /** Adds `vma`. Precondition: it overlaps no area of the tree. */
  add(vma: Vma): void {
    const node: Node = { vma, left: null, right: null, height: 1, prevEnd: this.before(vma.start)?.end ?? 0, maxGap: 0 };
    pull(node);
    this.root = insertNode(this.root, node);
    this.nodes.set(vma, node);
    this.size++;
    this.relink(this.lowerBound(vma.end), vma.end);
  }

  /** Removes `vma`. Precondition: it is in the tree. */
  delete(vma: Vma): void {
    const node = this.nodes.get(vma);
    if (node === undefined) return;
    const next = this.lowerBound(vma.end);
    this.root = removeNode(this.root, vma.start);
    this.nodes.delete(vma);
    this.size--;
    this.relink(next, node.prevEnd);
  }

  /** Moves `vma`'s end; its successor's gap follows. Precondition: no overlap results. */
  setEnd(vma: Vma, end: number): void {
    const next = this.lowerBound(vma.end);
    vma.end = end;
    this.relink(next, end);
  }

  /** Moves `vma`'s start within the free gap below it (the order is kept). */
  setStart(vma: Vma, start: number): void {
    vma.start = start;
    this.repath(start);
  }

  /** Gives `next` (if any) the area below it ending at `prevEnd`, and fixes the gaps on its path. */
  private relink(next: Vma | undefined, prevEnd: number): void {
    if (next === undefined) return;
    const node = this.nodes.get(next)!;
    node.prevEnd = prevEnd;
    this.repath(next.start);
  }

  /** Recomputes maxGap on the path from the root to the node starting at `start`. */
  private repath(start: number): void {
    const path: Node[] = [];
    let n = this.root;
    while (n !== null) {
      path.push(n);
      if (start === n.vma.start) break;
      n = start < n.vma.start ? n.left : n.right;
    }
    for (let k = path.length - 1; k >= 0; k--) pull(path[k]);
  }

  /**
   * The highest start of a free range of `len` bytes inside [floor, ceiling),
   * keeping a one-page gap below a grows-down area (cf. unmapped_area_topdown).
   * @returns the start address, or -1 when none fits
   */
  findFreeTopDown(len: number, floor: number, ceiling: number): number {
    const bound = this.lowerBound(ceiling);
    if (bound === undefined) {
      const bottom = Math.max(floor, this.last()?.end ?? floor);
      if (ceiling - bottom >= len) return ceiling - len;
    }
    const at = this.search(this.root, len, floor, ceiling, bound?.start ?? Infinity);
    return at >= 0 ? at : -1;
  }

  /**
   * The highest fitting gap below an area of `n`'s subtree among areas
   * starting at or below `bound`, clipped to [floor, ceiling): the gap
   * found, -1 for none here, STOP when the floor was reached. Subtrees
   * whose largest gap is too small are skipped whole (clipping only shrinks
   * gaps), so the walk is O(log n).
   */
  private search(n: Node | null, len: number, floor: number, ceiling: number, bound: number): number {
    if (n === null) return -1;
    if (n.vma.start > bound) return this.search(n.left, len, floor, ceiling, bound);
    if (n.maxGap < len) return -1;
    const above = this.search(n.right, len, floor, ceiling, bound);
    if (above !== -1) return above;
    const guard = n.vma.growsDown ? PAGE_SIZE : 0;
    const top = Math.min(ceiling, n.vma.start - guard), bottom = Math.max(floor, n.prevEnd);
    if (top - bottom >= len) return top - len;
    if (n.prevEnd <= floor && n.prevEnd > 0) return STOP;
    return this.search(n.left, len, floor, ceiling, bound);
  }
}
