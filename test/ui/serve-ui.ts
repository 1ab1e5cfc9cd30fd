// `warren ui` as the CLI runs it (the command's own code), in a process of its own: for the browser test.
import { uiCommand } from '../../sdk/cli/ui-command.ts';

process.exitCode = await uiCommand(process.argv.slice(2));
