export type { WarrenEvent, LoggedEvent } from '../../dsl/events.ts';
import type { WarrenEvent } from '../../dsl/events.ts';

export type Emit = (event: WarrenEvent) => void;
