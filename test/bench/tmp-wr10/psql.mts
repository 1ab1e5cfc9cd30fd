import shop from '/work/main/recipes/shop.env.ts';
import { removeVolumes } from '/work/main/sdk/runtime/volumes.ts';
import { createLinuxDrivers } from '/work/main/sdk/drivers/linux.ts';
const dev = await shop.up({ instance: 'w2', stateDir: '/tmp/wr10-warm' });
for (const argv of [['sh', '-c', 'time psql -h db -U postgres -v ON_ERROR_STOP=1 -q -f /work/main/playground/shop/migrations.sql'], ['sh', '-c', 'time psql -h 10.1.1.1 -U postgres -c "select 1" 2>&1 | tail -1'], ['sh','-c','time getent hosts db'], ['sh', '-c', 'time psql -h db -U postgres -c "select 1" -q']]) {
  const t = performance.now(); const r = await dev.exec('api', argv); console.log((performance.now()-t).toFixed(0), r.stdout.slice(-200), r.stderr.slice(-200));
}
await dev.down();
await removeVolumes('/tmp/wr10-warm', 'shop', 'w2', createLinuxDrivers());
