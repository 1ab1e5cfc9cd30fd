// The critical chain of the last up: the steps it waited for one after another, drawn to scale
// on the up's time line. Only these, made faster, make the up faster.
import type { CriticalChain } from '../api-types.ts';
import { ms } from './format.ts';

export function ChainView({ chain }: { readonly chain: CriticalChain | null }) {
  if (!chain || chain.steps.length === 0) return <p class="muted">No up recorded in the event log.</p>;
  const total = Math.max(chain.totalMs, 1);
  return (
    <div class="chain">
      <p>{chain.steps.length} steps, {ms(chain.totalMs)} from the first step to ready.</p>
      <ol aria-label="Critical chain steps">
        {chain.steps.map((s) => (
          <li key={s.step}>
            <span class="chain-name">{s.step}</span>
            <span class="chain-track" aria-hidden="true">
              <span class="chain-bar" style={{ left: `${(s.startMs / total) * 100}%`, width: `${Math.max((s.ms / total) * 100, 0.5)}%` }} />
            </span>
            <span class="chain-ms">{ms(s.ms)}</span>
          </li>
        ))}
      </ol>
    </div>
  );
}
