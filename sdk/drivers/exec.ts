// Commands run inside a service's namespaces, entered through its init (PID 1 of its PID namespace).
import { constants } from 'node:os';
import { capture } from './command.ts';
import type { ExecDriver } from './types.ts';

export function createExecDriver(): ExecDriver {
  return {
    async exec(record, argv, options = {}) {
      const [file, ...args] = argv;
      if (!file) throw new TypeError('exec needs a command');
      const result = await capture(['nsenter', `--target=${record.pid}`, '--net', '--pid', '--mount', '--uts', '--', file, ...args], options.input === undefined ? {} : { input: options.input });
      const exitCode = result.exitCode ?? 128 + (result.signal ? (constants.signals[result.signal] ?? 0) : 0);
      return { stdout: result.stdout.replace(/\n$/, ''), stderr: result.stderr.replace(/\n$/, ''), exitCode };
    },
  };
}
