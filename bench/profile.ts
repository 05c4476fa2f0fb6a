// Summarises a V8 CPU profile (`BENCH_CPU_PROF` writes them): where the busy time went, by layer
// (our code, each package, Node's internals, GC) and by function (self time), so a benchmark's figure
// comes with the profile that explains it.
//
//   npx tsx bench/profile.ts <file.cpuprofile> [top functions, default 25]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The layer a frame belongs to: a package, our source, Node's own JavaScript, or V8's own work. */
export function layerOf(url: string, functionName: string): string {
  if (url === '') return functionName === '(garbage collector)' ? 'GC' : functionName.startsWith('(') ? functionName : 'native';
  const packageName = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (packageName) return packageName;
  if (url.startsWith('node:')) return 'node internals';
  const ours = /\/(?:dist\/)?src\/(.*)$/.exec(url)?.[1];
  return ours ? `ours: ${ours.split('/').slice(0, -1).join('/') || '.'}` : url;
}

export function summarise(profile: Profile, top = 25) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, n) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[n] ?? 0) / 1000));
  const idle = [...selfMs].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((sum, [, ms]) => sum + ms, 0);
  const total = [...selfMs.values()].reduce((sum, ms) => sum + ms, 0);
  const busy = total - idle;
  const layers = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, ms] of selfMs) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const layer = layerOf(url, functionName);
    layers.set(layer, (layers.get(layer) ?? 0) + ms);
    const name = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    functions.set(name, (functions.get(name) ?? 0) + ms);
  }
  const share = (ms: number) => `${((ms / busy) * 100).toFixed(1)}%`;
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return {
    busyMs: busy,
    idleMs: idle,
    layers: sorted(layers).map(([name, ms]) => ({ name, share: share(ms) })),
    functions: sorted(functions)
      .slice(0, top)
      .map(([name, ms]) => ({ name, share: share(ms) })),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: npx tsx bench/profile.ts <file.cpuprofile> [top]');
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile, top ? Number(top) : 25);
  console.log(`busy ${Math.round(summary.busyMs)} ms, idle ${Math.round(summary.idleMs)} ms\n\nby layer (share of busy time):`);
  for (const layer of summary.layers.slice(0, 20)) console.log(`  ${layer.share.padStart(6)}  ${layer.name}`);
  console.log('\nby function (self time):');
  for (const fn of summary.functions) console.log(`  ${fn.share.padStart(6)}  ${fn.name}`);
}
