// `warren ui ARGS` through the CLI's own dispatch, from the sources: for the browser test.
import { runCli } from '../../sdk/cli/main.ts';

await runCli(['ui', ...process.argv.slice(2)]);
