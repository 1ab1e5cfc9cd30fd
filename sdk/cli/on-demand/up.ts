// On-demand modules, part 3: bringing an instance up (`up`, `run`, `checkout.up()`). It loads
// the other two parts' code as well. See instances.ts for why these parts exist.
export * from '../up-command.ts';
export * from '../run.ts';
export * from '../../ops/up.ts';
