// What the runner allows of a workspace when it copies it for grading: the task's quota, and limits
// of depth and path length that any tree a kernel can still open stays within.
import type { WorkspaceQuota } from '../core/types.js';
import { DEFAULT_TREE_LIMITS, type TreeLimits } from '../sandbox/tree.js';

export function snapshotLimits(q: WorkspaceQuota): TreeLimits {
  return { ...DEFAULT_TREE_LIMITS, maxBytes: q.mb * 1024 * 1024, maxEntries: q.files };
}
