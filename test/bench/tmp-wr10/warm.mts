import shop from '/work/main/recipes/shop.env.ts';
import { removeVolumes } from '/work/main/sdk/runtime/volumes.ts';
import { createLinuxDrivers } from '/work/main/sdk/drivers/linux.ts';
const stateDir = '/tmp/wr10-warm';
const t0 = { v: 0 };
const log: string[] = [];
const onEvent = (e: any) => { if (e.kind === 'step.start' || e.kind === 'step.done' || e.kind.startsWith('task')) log.push(`${(performance.now() - t0.v).toFixed(0).padStart(5)} ${e.kind} ${e.step ?? e.task ?? ''} ${e.ms ?? ''}`); };
for (let i = 0; i < 4; i++) {
  log.length = 0; t0.v = performance.now();
  const dev = await shop.up({ instance: 'w1', stateDir, onEvent });
  console.log(`up ${i}: ${(performance.now() - t0.v).toFixed(0)} ms`);
  await dev.down();
}
console.log(log.filter(l => !/cgroup|mounttarget|volume|netns.create:(db|cache|api|web)|veth.create:(cache|api|web)/.test(l)).join('\n'));
await removeVolumes(stateDir, 'shop', 'w1', createLinuxDrivers());
