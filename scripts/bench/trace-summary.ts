// Where a page's main thread spent its long tasks, from a Chromium trace (the JSON that
// browser.startTracing/stopTracing writes, categories devtools.timeline and v8): the tasks over a
// threshold on the renderer's main thread, and their time split by what ran inside them (script,
// style, layout, paint, GC, ...) as self time, so that nested events are not counted twice.
// Pure: the bench reads the file and prints the result.

export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: Record<string, unknown> };
}

export interface LongTaskBreakdown {
  /** Tasks on the main thread longer than the threshold. */
  tasks: number;
  /** Their summed duration. */
  totalMs: number;
  longestMs: number;
  /** Self time inside those tasks by event name, largest first. */
  byKind: { name: string; ms: number }[];
}

/** The renderer's main thread: the thread named CrRendererMain with the most complete events. */
function mainThread(events: readonly TraceEvent[]): { pid: number; tid: number } | undefined {
  const names = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  let best: { pid: number; tid: number } | undefined;
  let most = -1;
  for (const n of names) {
    const count = events.filter((e) => e.pid === n.pid && e.tid === n.tid && e.ph === 'X').length;
    if (count > most) {
      most = count;
      best = { pid: n.pid, tid: n.tid };
    }
  }
  return best;
}

export function longTaskBreakdown(events: readonly TraceEvent[], overMs = 50): LongTaskBreakdown {
  const thread = mainThread(events);
  const empty = { tasks: 0, totalMs: 0, longestMs: 0, byKind: [] };
  if (!thread) return empty;
  const own = events
    .filter((e) => e.pid === thread.pid && e.tid === thread.tid && e.ph === 'X' && typeof e.dur === 'number')
    .sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  const tasks = own.filter((e) => e.name === 'RunTask' && e.dur! > overMs * 1000);
  if (tasks.length === 0) return empty;
  const self = new Map<string, number>();
  for (const task of tasks) {
    const end = task.ts + task.dur!;
    const inside = own.filter((e) => e !== task && e.ts >= task.ts && e.ts + e.dur! <= end);
    // Self time: an event's duration less its direct children's (events are sorted by start,
    // outer first, so a stack of open events finds each one's parent).
    const stack: { e: TraceEvent; children: number }[] = [{ e: task, children: 0 }];
    const close = (until: number) => {
      while (stack.length > 1 && stack[stack.length - 1].e.ts + stack[stack.length - 1].e.dur! <= until) {
        const done = stack.pop()!;
        self.set(done.e.name, (self.get(done.e.name) ?? 0) + done.e.dur! - done.children);
        stack[stack.length - 1].children += done.e.dur!;
      }
    };
    for (const e of inside) {
      close(e.ts);
      stack.push({ e, children: 0 });
    }
    close(Infinity);
    self.set('(task itself)', (self.get('(task itself)') ?? 0) + task.dur! - stack[0].children);
  }
  const byKind = [...self]
    .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10 }))
    .filter((k) => k.ms > 0)
    .sort((a, b) => b.ms - a.ms);
  const durations = tasks.map((t) => t.dur! / 1000);
  return {
    tasks: tasks.length,
    totalMs: Math.round(durations.reduce((a, b) => a + b, 0)),
    longestMs: Math.round(Math.max(...durations)),
    byKind,
  };
}

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
}

/** The functions with the most self samples in a CPU profile (CDP Profiler.stop's profile). */
export function hotFunctions(profile: { nodes: CpuProfileNode[]; samples?: number[] }, top = 15): { fn: string; share: number }[] {
  const counts = new Map<number, number>();
  for (const s of profile.samples ?? []) counts.set(s, (counts.get(s) ?? 0) + 1);
  const total = profile.samples?.length ?? 0;
  const byFn = new Map<string, number>();
  for (const node of profile.nodes) {
    const n = counts.get(node.id) ?? 0;
    if (n === 0) continue;
    const f = node.callFrame;
    const file = f.url.split('/').pop() ?? '';
    const key = `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}:${f.columnNumber + 1}` : ''}`;
    byFn.set(key, (byFn.get(key) ?? 0) + n);
  }
  return [...byFn]
    .map(([fn, n]) => ({ fn, share: total ? Math.round((n / total) * 1000) / 10 : 0 }))
    .sort((a, b) => b.share - a.share)
    .slice(0, top);
}
